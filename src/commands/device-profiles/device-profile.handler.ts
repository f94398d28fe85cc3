import { entityCommands } from '../entities/entity.handler';
import { deviceProfileDecider, deviceProfileNotFound, deviceProfileStream } from './device-profile.decider';

export const deviceProfileCommands = entityCommands(deviceProfileDecider, deviceProfileStream, deviceProfileNotFound);
