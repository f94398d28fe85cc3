import { entityCommands } from '../entities/entity.handler';
import { annotationClassDecider, annotationClassNotFound, annotationClassStream } from './annotation-class.decider';

export const annotationClassCommands = entityCommands(annotationClassDecider, annotationClassStream, annotationClassNotFound);
