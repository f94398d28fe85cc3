import { quarantineStream } from '../../ingest/readings/readings.events';
import type { Actor, EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand, type CommandResult } from '../command-handler';
import type { CommandContext } from '../decider';
import { quarantineDecider, quarantineEntryNotFound, type QuarantineEvent, type QuarantineState } from './quarantine.decider';

export interface QuarantineTarget {
  readonly quarantineId: string;
  readonly deviceId: string | null;
}

/** The decision recorded in the entry's stream, with who took it (from the event's metadata). */
export type QuarantineDecision = { status: 'QUARANTINED' } | { status: 'RELEASED' | 'DISCARDED'; at: string; by: Actor };

// One retry: a concurrent decision is then answered with QUARANTINE_ENTRY_RESOLVED rather than a bare conflict.
const OPTIONS = { notFound: quarantineEntryNotFound, retries: 1 };

export function releaseQuarantineEntry(store: EventStore, context: CommandContext, target: QuarantineTarget, now = new Date()): Promise<CommandResult<QuarantineEvent>> {
  const command = { type: 'ReleaseQuarantineEntry' as const, data: { ...target, now: now.toISOString() } };
  return handleCommand(store, quarantineDecider, quarantineStream(target.quarantineId), command, context, OPTIONS);
}

export function discardQuarantineEntry(
  store: EventStore,
  context: CommandContext,
  target: QuarantineTarget & { readonly note: string | null },
  now = new Date(),
): Promise<CommandResult<QuarantineEvent>> {
  const command = { type: 'DiscardQuarantineEntry' as const, data: { ...target, now: now.toISOString() } };
  return handleCommand(store, quarantineDecider, quarantineStream(target.quarantineId), command, context, OPTIONS);
}

export async function readQuarantineDecision(store: EventStore, orgId: string, quarantineId: string): Promise<QuarantineDecision> {
  const history = await store.readStream(quarantineStream(quarantineId));
  if (history.length > 0 && history[0]?.metadata.orgId !== orgId) throw quarantineEntryNotFound();
  const state: QuarantineState = history.reduce((s, e) => quarantineDecider.evolve(s, { type: e.type, data: e.data } as QuarantineEvent), quarantineDecider.initialState);
  const first = history[0];
  if (state.status === 'QUARANTINED' || !first) return { status: 'QUARANTINED' };
  return { status: state.status, at: state.at, by: first.metadata.actor };
}
