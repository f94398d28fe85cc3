import { NotFoundError } from '../../platform/errors';
import { assertNever, type Decider, type DomainEvent } from '../decider';
import type { PackContent } from './pack.content';

export type PackCreated = DomainEvent<
  'PackCreated',
  { id: string; name: string; description: string | null; content: PackContent; contentHash: string; createdAt: string }
>;
export type PackVersionAdded = DomainEvent<'PackVersionAdded', { id: string; version: number; content: PackContent; contentHash: string; addedAt: string }>;
export type PackEvent = PackCreated | PackVersionAdded;
export const PACK_EVENT_TYPES: readonly PackEvent['type'][] = ['PackCreated', 'PackVersionAdded'];

export type PackCommand =
  | { type: 'CreatePack'; data: { id: string; name: string; description: string | null; content: PackContent; contentHash: string; now: string } }
  | { type: 'AddPackVersion'; data: { content: PackContent; contentHash: string; now: string } };

export type PackState = { status: 'absent' } | { status: 'present'; id: string; latestVersion: number; latestHash: string };

export const packNotFound = (): NotFoundError => new NotFoundError('PACK_NOT_FOUND', 'No pack with this id.');

/** A pack: versions are immutable; adding content equal to the latest version appends nothing. */
export const packDecider: Decider<PackCommand, PackEvent, PackState> = {
  initialState: { status: 'absent' },
  decide(command, state) {
    switch (command.type) {
      case 'CreatePack': {
        if (state.status === 'present') return [];
        const { now, ...data } = command.data;
        return [{ type: 'PackCreated', data: { ...data, createdAt: now } }];
      }
      case 'AddPackVersion': {
        if (state.status === 'absent') throw packNotFound();
        if (state.latestHash === command.data.contentHash) return [];
        const { content, contentHash, now } = command.data;
        return [{ type: 'PackVersionAdded', data: { id: state.id, version: state.latestVersion + 1, content, contentHash, addedAt: now } }];
      }
      default:
        return assertNever(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'PackCreated':
        return { status: 'present', id: event.data.id, latestVersion: 1, latestHash: event.data.contentHash };
      case 'PackVersionAdded':
        return state.status === 'present' ? { ...state, latestVersion: event.data.version, latestHash: event.data.contentHash } : state;
      default:
        return assertNever(event);
    }
  },
};

export function packStream(id: string): string {
  return `pack-${id}`;
}
