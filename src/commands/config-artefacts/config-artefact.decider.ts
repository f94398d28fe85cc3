import { ConflictError, NotFoundError } from '../../platform/errors';
import { assertNever, type Decider, type DomainEvent } from '../decider';

/** A JSON Schema (draft 2020-12) the content of a version must satisfy, or null. */
export type ContentSchema = Record<string, unknown> | null;

export type ConfigArtefactCreated = DomainEvent<
  'ConfigArtefactCreated',
  { id: string; name: string; description: string | null; content: Record<string, unknown>; schema: ContentSchema; contentHash: string; createdAt: string }
>;
export type ConfigArtefactVersionAdded = DomainEvent<
  'ConfigArtefactVersionAdded',
  { id: string; version: number; content: Record<string, unknown>; schema: ContentSchema; contentHash: string; addedAt: string }
>;
export type ConfigArtefactUpdated = DomainEvent<
  'ConfigArtefactUpdated',
  { id: string; changes: { name?: string; description?: string | null }; updatedAt: string }
>;
export type ConfigArtefactArchived = DomainEvent<'ConfigArtefactArchived', { id: string; archivedAt: string }>;

export type ConfigArtefactEvent = ConfigArtefactCreated | ConfigArtefactVersionAdded | ConfigArtefactUpdated | ConfigArtefactArchived;

export const CONFIG_ARTEFACT_EVENT_TYPES: readonly ConfigArtefactEvent['type'][] = [
  'ConfigArtefactCreated',
  'ConfigArtefactVersionAdded',
  'ConfigArtefactUpdated',
  'ConfigArtefactArchived',
];

/** Content arrives checked (object, size, schema) and hashed: the decider only orders versions. */
export interface ConfigArtefactContent {
  content: Record<string, unknown>;
  schema: ContentSchema;
  contentHash: string;
}

export type ConfigArtefactCommand =
  | { type: 'CreateConfigArtefact'; data: ConfigArtefactContent & { id: string; name: string; description: string | null; now: string } }
  | { type: 'AddConfigArtefactVersion'; data: ConfigArtefactContent & { now: string } }
  | { type: 'UpdateConfigArtefact'; data: { changes: { name?: string; description?: string | null }; now: string } }
  | { type: 'ArchiveConfigArtefact'; data: { now: string } };

interface Known {
  id: string;
  name: string;
  description: string | null;
  latestVersion: number;
  latestHash: string;
  schema: ContentSchema;
}

export type ConfigArtefactState = { status: 'absent' } | ({ status: 'ACTIVE' } & Known) | ({ status: 'ARCHIVED' } & Known);

export const configArtefactNotFound = (): NotFoundError => new NotFoundError('CONFIG_ARTEFACT_NOT_FOUND', 'No config artefact with this id.');
export const configArtefactArchived = (): ConflictError =>
  new ConflictError('CONFIG_ARTEFACT_ARCHIVED', 'The config artefact is archived: it keeps its versions but takes no changes.');

function active(state: ConfigArtefactState): Known {
  if (state.status === 'absent') throw configArtefactNotFound();
  if (state.status === 'ARCHIVED') throw configArtefactArchived();
  return state;
}

/**
 * Config artefacts: named documents whose versions are never rewritten.
 * Archiving replaces deleting, so whatever refers to a version keeps resolving.
 */
export const configArtefactDecider: Decider<ConfigArtefactCommand, ConfigArtefactEvent, ConfigArtefactState> = {
  initialState: { status: 'absent' },

  decide(command, state) {
    switch (command.type) {
      case 'CreateConfigArtefact': {
        if (state.status !== 'absent') throw new ConflictError('CONFLICT', 'The config artefact already exists.');
        const { now, ...data } = command.data;
        return [{ type: 'ConfigArtefactCreated', data: { ...data, createdAt: now } }];
      }
      case 'AddConfigArtefactVersion': {
        const current = active(state);
        // Same content as the latest: idempotent, the latest version answers.
        if (command.data.contentHash === current.latestHash) return [];
        const { now, ...data } = command.data;
        return [{ type: 'ConfigArtefactVersionAdded', data: { id: current.id, version: current.latestVersion + 1, ...data, addedAt: now } }];
      }
      case 'UpdateConfigArtefact': {
        const current = active(state);
        const changes = Object.fromEntries(
          Object.entries(command.data.changes).filter(([key, value]) => value !== undefined && value !== current[key as 'name' | 'description']),
        );
        if (Object.keys(changes).length === 0) return [];
        return [{ type: 'ConfigArtefactUpdated', data: { id: current.id, changes, updatedAt: command.data.now } }];
      }
      case 'ArchiveConfigArtefact':
        if (state.status === 'absent') throw configArtefactNotFound();
        if (state.status === 'ARCHIVED') return [];
        return [{ type: 'ConfigArtefactArchived', data: { id: state.id, archivedAt: command.data.now } }];
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ConfigArtefactCreated': {
        const { id, name, description, schema, contentHash } = event.data;
        return { status: 'ACTIVE', id, name, description, schema, latestVersion: 1, latestHash: contentHash };
      }
      case 'ConfigArtefactVersionAdded':
        return state.status === 'absent'
          ? state
          : { ...state, latestVersion: event.data.version, latestHash: event.data.contentHash, schema: event.data.schema };
      case 'ConfigArtefactUpdated':
        return state.status === 'absent' ? state : { ...state, ...event.data.changes };
      case 'ConfigArtefactArchived':
        return state.status === 'absent' ? state : { ...state, status: 'ARCHIVED' };
      default:
        return assertNever(event);
    }
  },
};

export function configArtefactStream(id: string): string {
  return `configArtefact-${id}`;
}
