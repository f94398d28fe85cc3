import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand } from '../command-handler';
import type { CommandContext } from '../decider';
import {
  configArtefactDecider,
  configArtefactNotFound,
  configArtefactStream,
  type ConfigArtefactCommand,
  type ConfigArtefactContent,
} from './config-artefact.decider';

function run(store: EventStore, ctx: CommandContext, id: string, command: ConfigArtefactCommand, expectedRevision?: bigint) {
  return handleCommand(store, configArtefactDecider, configArtefactStream(id), command, ctx, {
    notFound: configArtefactNotFound,
    // Without If-Match the decision is re-taken on the new state (a version is numbered after the latest).
    ...(expectedRevision !== undefined ? { expectedRevision } : { retries: 3 }),
  });
}

export const configArtefactCommands = {
  create: (store: EventStore, ctx: CommandContext, id: string, fields: { name: string; description: string | null }, checked: ConfigArtefactContent, now = new Date()) =>
    run(store, ctx, id, { type: 'CreateConfigArtefact', data: { id, ...fields, ...checked, now: now.toISOString() } }),
  addVersion: (store: EventStore, ctx: CommandContext, id: string, checked: ConfigArtefactContent, now = new Date()) =>
    run(store, ctx, id, { type: 'AddConfigArtefactVersion', data: { ...checked, now: now.toISOString() } }),
  update: (
    store: EventStore,
    ctx: CommandContext,
    id: string,
    changes: { name?: string; description?: string | null },
    expectedRevision?: bigint,
    now = new Date(),
  ) => run(store, ctx, id, { type: 'UpdateConfigArtefact', data: { changes, now: now.toISOString() } }, expectedRevision),
  archive: (store: EventStore, ctx: CommandContext, id: string, expectedRevision?: bigint, now = new Date()) =>
    run(store, ctx, id, { type: 'ArchiveConfigArtefact', data: { now: now.toISOString() } }, expectedRevision),
};
