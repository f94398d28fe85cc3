import { entityCommands } from '../entities/entity.handler';
import { sensorProfileDecider, sensorProfileNotFound, sensorProfileStream } from './sensor-profile.decider';

export const sensorProfileCommands = entityCommands(sensorProfileDecider, sensorProfileStream, sensorProfileNotFound);
