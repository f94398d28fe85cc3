import { entityCommands } from '../entities/entity.handler';
import { annotationDecider, annotationNotFound, annotationStream } from './annotation.decider';

export const annotationCommands = entityCommands(annotationDecider, annotationStream, annotationNotFound);
