import type { RecordedEvent } from '../platform/event-store/event-store.port';
import { START } from '../platform/event-store/event-store.port';
import { withPlatform } from './cli-platform';
import { UsageError } from './create-org.command';

export interface AuditOptions {
  org?: string;
  stream?: string;
  type?: string;
  actor?: string;
  from?: string;
  to?: string;
  json?: boolean;
  follow?: boolean;
}

function parseTime(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`admin audit ${flag} <ISO-8601 time>`);
  return ms;
}

/**
 * `admin audit`: the event log filtered by organization, stream prefix,
 * event type, actor and time; a table, or JSON lines with --json; --follow
 * keeps printing new events.
 */
export async function auditCommand(options: AuditOptions): Promise<void> {
  const from = parseTime(options.from, '--from');
  const to = parseTime(options.to, '--to');
  const types = options.type?.split(',').map((t) => t.trim()).filter(Boolean);
  const filter = {
    ...(options.stream ? { streamPrefixes: [options.stream] } : {}),
    ...(types?.length ? { eventTypes: types } : {}),
  };
  const keep = (e: RecordedEvent): boolean =>
    (!options.org || e.metadata.orgId === options.org) &&
    (!options.actor || e.metadata.actor === options.actor) &&
    (from === undefined || e.createdAt.getTime() >= from) &&
    (to === undefined || e.createdAt.getTime() < to);
  const print = (e: RecordedEvent): void => {
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({
          position: `${e.position.commit}:${e.position.prepare}`,
          time: e.createdAt.toISOString(),
          stream: e.stream,
          revision: Number(e.revision),
          type: e.type,
          orgId: e.metadata.orgId,
          actor: e.metadata.actor,
          correlationId: e.metadata.correlationId,
          data: e.data,
        })}\n`,
      );
    } else {
      process.stdout.write(
        `${e.createdAt.toISOString()}  ${e.type.padEnd(28)} ${e.stream.padEnd(50)} ${String(e.metadata.actor).padEnd(46)} org=${e.metadata.orgId ?? '-'}\n`,
      );
    }
  };

  await withPlatform(async (platform) => {
    if (!options.json) process.stdout.write(`${'time'.padEnd(26)}${'type'.padEnd(29)}${'stream'.padEnd(51)}${'actor'.padEnd(47)}org\n`);
    if (options.follow) {
      const subscription = platform.store.subscribeToAll({ fromPosition: START, filter });
      process.once('SIGINT', () => void subscription.close());
      for await (const batch of subscription) batch.events.filter(keep).forEach(print);
      return;
    }
    let position = START;
    for (;;) {
      const page = await platform.store.readAll({ fromPosition: position, maxCount: 1000, filter });
      page.events.filter(keep).forEach(print);
      if (page.events.length < 1000) break;
      position = page.checkpoint;
    }
  });
}
