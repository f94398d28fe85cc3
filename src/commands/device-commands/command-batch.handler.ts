import { comparePositions, type EventStore, type Position } from '../../platform/event-store/event-store.port';
import { deterministicId, handleCommand } from '../command-handler';
import type { CommandContext } from '../decider';
import { commandBatchDecider, commandBatchNotFound, type CommandBatchFields } from './command-batch.decider';
import { commandBatchStream, type CommandBatchCreated, type CommandBatchEvent } from './command-batch.events';
import { deviceCommandCommands } from './device-command.handler';

/** Streams appended to at once while queueing a batch's commands. */
const PARALLEL_APPENDS = 16;

/** A batch's command for a device: the same id every time, so a retry finds what the first attempt queued. */
export function batchCommandId(batchId: string, deviceId: string): string {
  return deterministicId('command-batch', batchId, deviceId);
}

export interface CreatedCommandBatch {
  readonly batch: CommandBatchCreated['data'];
  /** For read-your-writes: every appended event type and the furthest position. */
  readonly appended: { readonly events: { type: string }[]; readonly position: Position | undefined };
}

async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Records the batch with its members, then queues one command per member.
 * An attempt that stopped half-way is completed by the same request again
 * (same batch id): recorded members, derived command ids, idempotent queues.
 */
export async function createCommandBatch(
  store: EventStore,
  ctx: CommandContext,
  id: string,
  fields: CommandBatchFields,
  deviceIds: readonly string[],
  now = new Date(),
): Promise<CreatedCommandBatch> {
  const commands = deviceIds.map((deviceId) => ({ deviceId, commandId: batchCommandId(id, deviceId) }));
  const created = await handleCommand(
    store,
    commandBatchDecider,
    commandBatchStream(id),
    { type: 'CreateCommandBatch', data: { id, ...fields, commands, now: now.toISOString() } },
    ctx,
    { notFound: commandBatchNotFound },
  );
  const batch = created.events[0]?.data ?? (await recordedBatch(store, id));
  const queued = await inParallel(batch.commands, PARALLEL_APPENDS, (command) =>
    deviceCommandCommands.queue(
      store,
      ctx,
      { id: command.commandId, deviceId: command.deviceId, name: batch.name, params: batch.params, timeoutSeconds: batch.timeoutSeconds, expiresAt: batch.expiresAt, batchId: id },
      now,
    ),
  );
  const results = [created, ...queued];
  const positions = results.flatMap((r) => (r.position ? [r.position] : []));
  return {
    batch,
    appended: {
      events: results.flatMap((r) => r.events.map((e) => ({ type: e.type }))),
      position: positions.sort(comparePositions).pop(),
    },
  };
}

async function recordedBatch(store: EventStore, id: string): Promise<CommandBatchCreated['data']> {
  const history = await store.readStream(commandBatchStream(id));
  const state = history.reduce((s, e) => commandBatchDecider.evolve(s, { type: e.type, data: e.data } as CommandBatchEvent), commandBatchDecider.initialState);
  if (state.status === 'absent') throw commandBatchNotFound();
  const { status: _status, ...batch } = state;
  return batch;
}
