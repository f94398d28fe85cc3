import { defineRoutes } from '../route';
import { listActivityEvents, type ActivityFilters } from './activity-events.queries';
import { openActivityStream } from './activity-events.stream';

const COLLECTION = '/v1/events';
const TAG = 'Events';
const SCHEMA = 'activity-events#/$defs';

/** The organization's activity feed (docs/events.md): pages, and a live stream of new entries. */
export const activityEventRoutes = defineRoutes([
  {
    method: 'get',
    path: COLLECTION,
    operationId: 'listActivityEvents',
    summary: 'The organization’s activity feed, newest first',
    tag: TAG,
    auth: 'viewer',
    query: `${SCHEMA}/ListActivityEventsQuery`,
    responses: { 200: `${SCHEMA}/ActivityEventPage` },
    async handler(ctx) {
      const query = ctx.query as unknown as ActivityFilters & { limit: number; cursor?: string };
      return { status: 200, body: await ctx.tenant((tx) => listActivityEvents(tx, query)) };
    },
  },
  {
    method: 'get',
    path: `${COLLECTION}/stream`,
    operationId: 'streamActivityEvents',
    summary: 'New feed entries as Server-Sent Events (resume with Last-Event-ID)',
    tag: TAG,
    auth: 'viewer',
    query: `${SCHEMA}/StreamActivityEventsQuery`,
    produces: 'text/event-stream',
    responses: { 200: `${SCHEMA}/ActivityEvent` },
    handler: openActivityStream,
  },
]);
