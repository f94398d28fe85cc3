import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand, type CommandResult } from '../command-handler';
import type { CommandContext } from '../decider';
import { exportDecider, exportNotFound, type ExportCommand } from './export.decider';
import { exportStream, type ExportEvent, type ExportOutcome, type ExportRequest } from './export.events';

/** Every command is re-decided after a concurrent write: a worker's step and a DELETE may cross. */
const RETRIES = 3;

function run(store: EventStore, ctx: CommandContext, id: string, command: ExportCommand): Promise<CommandResult<ExportEvent>> {
  return handleCommand(store, exportDecider, exportStream(id), command, ctx, { notFound: exportNotFound, retries: RETRIES });
}

export const exportCommands = {
  request: (store: EventStore, ctx: CommandContext, request: ExportRequest, now = new Date()) =>
    run(store, ctx, request.id, { type: 'RequestExport', data: { request, now: now.toISOString() } }),
  start: (store: EventStore, ctx: CommandContext, id: string, attempt: number, workerId: string, now = new Date()) =>
    run(store, ctx, id, { type: 'StartExport', data: { attempt, workerId, now: now.toISOString() } }),
  complete: (store: EventStore, ctx: CommandContext, id: string, attempt: number, outcome: ExportOutcome, expiresAt: Date, now = new Date()) =>
    run(store, ctx, id, { type: 'CompleteExport', data: { attempt, outcome, now: now.toISOString(), expiresAt: expiresAt.toISOString() } }),
  fail: (store: EventStore, ctx: CommandContext, id: string, attempt: number, reason: string, now = new Date()) =>
    run(store, ctx, id, { type: 'FailExport', data: { attempt, reason, now: now.toISOString() } }),
  /** Cancels a pending or running export, deletes a finished one. */
  delete: (store: EventStore, ctx: CommandContext, id: string, now = new Date()) => run(store, ctx, id, { type: 'DeleteExport', data: { now: now.toISOString() } }),
  expire: (store: EventStore, ctx: CommandContext, id: string, now = new Date()) => run(store, ctx, id, { type: 'ExpireExport', data: { now: now.toISOString() } }),
};
