import { entityCommands } from '../entities/entity.handler';
import { dashboardDecider, dashboardNotFound, dashboardStream } from './dashboard.decider';

/** create / update / remove of a dashboard; `create(store, ctx, id, fields)` is also how packs install one. */
export const dashboardCommands = entityCommands(dashboardDecider, dashboardStream, dashboardNotFound);
