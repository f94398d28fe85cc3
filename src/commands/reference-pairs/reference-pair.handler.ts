import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand } from '../command-handler';
import type { CommandContext } from '../decider';
import { entityCommands } from '../entities/entity.handler';
import { referencePairDecider, referencePairNotFound, referencePairStream, type ReferenceReading } from './reference-pair.decider';

export const referencePairCommands = entityCommands(referencePairDecider, referencePairStream, referencePairNotFound);

/** Records reference readings of a MANUAL pair; retried on a concurrent write, since recording never depends on what came between. */
export function recordReferenceReadings(store: EventStore, ctx: CommandContext, pairId: string, readings: ReferenceReading[], now = new Date()) {
  return handleCommand(
    store,
    referencePairDecider,
    referencePairStream(pairId),
    { type: 'RecordReferenceReadings', data: { readings, now: now.toISOString() } },
    ctx,
    { notFound: referencePairNotFound, retries: 3 },
  );
}
