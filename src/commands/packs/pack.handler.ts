import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand } from '../command-handler';
import type { CommandContext } from '../decider';
import { itemHash, type PackContent } from './pack.content';
import { packDecider, packNotFound, packStream } from './pack.decider';
import {
  packInstallationDecider,
  packInstallationNotFound,
  packInstallationStream,
  type PackInstallationCommand,
} from './pack-installation.decider';

export const packCommands = {
  create: (store: EventStore, ctx: CommandContext, id: string, fields: { name: string; description: string | null; content: PackContent }, now = new Date()) =>
    handleCommand(store, packDecider, packStream(id), { type: 'CreatePack', data: { id, ...fields, contentHash: itemHash(fields.content), now: now.toISOString() } }, ctx, {
      notFound: packNotFound,
    }),
  addVersion: (store: EventStore, ctx: CommandContext, id: string, content: PackContent, now = new Date()) =>
    handleCommand(store, packDecider, packStream(id), { type: 'AddPackVersion', data: { content, contentHash: itemHash(content), now: now.toISOString() } }, ctx, {
      notFound: packNotFound,
    }),
};

export const packInstallationCommands = {
  record: (store: EventStore, ctx: CommandContext, id: string, command: PackInstallationCommand) =>
    handleCommand(store, packInstallationDecider, packInstallationStream(id), command, ctx, { notFound: packInstallationNotFound }),
  /** How many times the installation was made, so a reinstall after an uninstall gets fresh resource ids. */
  async generation(store: EventStore, id: string): Promise<number> {
    const events = await store.readStream(packInstallationStream(id));
    return events.filter((e) => e.type === 'PackInstalled').length;
  },
};
