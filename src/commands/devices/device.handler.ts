import { entityCommands } from '../entities/entity.handler';
import { deviceDecider, deviceNotFound, deviceStream } from './device.decider';

export const deviceCommands = entityCommands(deviceDecider, deviceStream, deviceNotFound);
