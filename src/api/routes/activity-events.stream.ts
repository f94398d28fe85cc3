import { ValidationError } from '../../platform/errors';
import { activityEventsProjection } from '../../projections/activity-events.projection';
import type { RouteContext, RouteResult } from '../route';
import type { SseStream } from '../server-sent-events';
import { activityEventsAfter, newestActivityPosition, positionOf, type ActivityFilters, type FeedPosition } from './activity-events.queries';

/** Entries per read; a full batch is followed by the next read at once. */
const BATCH = 100;
/** Reconnection delay suggested to EventSource clients. */
const RETRY_MS = 3000;

/** Rings that arrive while the loop is busy are kept, so a wake-up between a read and the next sleep is not lost. */
class Wake {
  private rung = false;
  private release: (() => void) | undefined;

  ring(): void {
    this.rung = true;
    this.release?.();
  }

  async sleep(ms: number, closed: Promise<void>): Promise<void> {
    if (!this.rung) {
      let timer: NodeJS.Timeout | undefined;
      const woken = new Promise<void>((resolve) => {
        this.release = resolve;
        timer = setTimeout(resolve, ms);
      });
      await Promise.race([woken, closed]);
      clearTimeout(timer);
      this.release = undefined;
    }
    this.rung = false;
  }
}

/** Where the stream starts: after the entry named by Last-Event-ID (or ?lastEventId=), else after the newest entry now. */
async function startingPoint(ctx: RouteContext, lastEventId: string | undefined): Promise<FeedPosition> {
  const header = ctx.req.header('last-event-id');
  const [given, path] = header ? [header, '/headers/last-event-id'] : [lastEventId, '/query/lastEventId'];
  if (given === undefined) return ctx.tenant((tx) => newestActivityPosition(tx));
  const position = positionOf(given.trim());
  if (!position) throw new ValidationError('The last event id is not an id from this stream.', [{ path, message: 'is not an id from this stream' }], 'INVALID_CURSOR');
  return position;
}

/**
 * Sends the entries after `from` that match, then sleeps until the
 * activity-events projection's checkpoint moves (or the poll interval
 * passes) and reads again. Every read is a tenant transaction under RLS.
 */
async function follow(stream: SseStream, ctx: RouteContext, filters: ActivityFilters, from: FeedPosition): Promise<void> {
  const wake = new Wake();
  const stop = ctx.deps.watcher.onAdvance(activityEventsProjection.name, () => wake.ring());
  let after = from;
  let live = false;
  try {
    while (stream.isOpen) {
      const batch = await ctx.tenant((tx) => activityEventsAfter(tx, filters, after, BATCH));
      for (const { entry, position } of batch) {
        stream.send({ id: entry.cursor, event: entry.type, data: entry });
        after = position;
      }
      await stream.drained();
      if (batch.length === BATCH) continue;
      if (!live) {
        // Everything before this line was backlog; what follows arrives as it happens.
        stream.comment('live');
        live = true;
      }
      await wake.sleep(ctx.deps.config.eventsStream.pollMs, stream.closed);
    }
  } finally {
    stop();
  }
}

export async function openActivityStream(ctx: RouteContext): Promise<RouteResult> {
  const { lastEventId, ...filters } = ctx.query as ActivityFilters & { lastEventId?: string };
  const from = await startingPoint(ctx, lastEventId);
  const { authenticator, config, streams } = ctx.deps;
  const authorization = ctx.req.header('authorization');
  streams.open(
    ctx.res,
    {
      heartbeatMs: config.eventsStream.heartbeatMs,
      retryMs: RETRY_MS,
      stillAllowed: async () => (await authenticator.authenticate(authorization)).orgId === ctx.principal.orgId,
    },
    (stream) => follow(stream, ctx, filters, from),
  );
  return { status: 200, streamed: true };
}
