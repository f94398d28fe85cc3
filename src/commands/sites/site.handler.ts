import { entityCommands } from '../entities/entity.handler';
import { siteDecider, siteNotFound, siteStream } from './site.decider';

export const siteCommands = entityCommands(siteDecider, siteStream, siteNotFound);
