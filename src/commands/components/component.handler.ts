import { entityCommands } from '../entities/entity.handler';
import { componentDecider, componentNotFound, componentStream } from './component.decider';

export const componentCommands = entityCommands(componentDecider, componentStream, componentNotFound);
