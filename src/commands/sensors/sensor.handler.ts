import { entityCommands } from '../entities/entity.handler';
import { sensorDecider, sensorNotFound, sensorStream } from './sensor.decider';

export const sensorCommands = entityCommands(sensorDecider, sensorStream, sensorNotFound);
