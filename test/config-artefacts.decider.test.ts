import { randomUUID } from 'node:crypto';
import { checkContent } from '../src/commands/config-artefacts/config-artefact.content';
import {
  configArtefactDecider,
  configArtefactStream,
  type ConfigArtefactEvent,
} from '../src/commands/config-artefacts/config-artefact.decider';
import { spec } from './support/decider-spec';

const AT = '2025-01-01T00:00:00.000Z';
const LATER = '2025-01-02T00:00:00.000Z';
const artefact = spec(configArtefactDecider);
const v1 = checkContent({ interval: 60 }, null);
const v2 = checkContent({ interval: 30 }, null);

const created = (id: string): ConfigArtefactEvent => ({
  type: 'ConfigArtefactCreated',
  data: { id, name: 'gateway', description: null, ...v1, createdAt: AT },
});

describe('ConfigArtefact', () => {
  it('lives in the stream configArtefact-<id>', () => {
    expect(configArtefactStream('abc')).toBe('configArtefact-abc');
  });

  describe('when absent', () => {
    it('creates it with its first version', () => {
      const id = randomUUID();
      artefact
        .given([])
        .when({ type: 'CreateConfigArtefact', data: { id, name: 'gateway', description: null, ...v1, now: AT } })
        .then([created(id)]);
    });

    it('refuses a version of an artefact that does not exist', () => {
      artefact.given([]).when({ type: 'AddConfigArtefactVersion', data: { ...v2, now: LATER } }).thenThrows({ code: 'CONFIG_ARTEFACT_NOT_FOUND', status: 404 });
    });
  });

  describe('when active', () => {
    const id = randomUUID();
    const history = [created(id)];

    it('numbers a new version after the latest', () => {
      artefact
        .given(history)
        .when({ type: 'AddConfigArtefactVersion', data: { ...v2, now: LATER } })
        .then([{ type: 'ConfigArtefactVersionAdded', data: { id, version: 2, ...v2, addedAt: LATER } }]);
    });

    it('adds nothing for the content of the latest version', () => {
      artefact.given(history).when({ type: 'AddConfigArtefactVersion', data: { ...checkContent({ interval: 60 }, null), now: LATER } }).then([]);
    });

    it('records only the fields that change', () => {
      artefact
        .given(history)
        .when({ type: 'UpdateConfigArtefact', data: { changes: { name: 'gateway', description: 'edge boxes' }, now: LATER } })
        .then([{ type: 'ConfigArtefactUpdated', data: { id, changes: { description: 'edge boxes' }, updatedAt: LATER } }]);
    });

    it('archives it', () => {
      artefact.given(history).when({ type: 'ArchiveConfigArtefact', data: { now: LATER } }).then([{ type: 'ConfigArtefactArchived', data: { id, archivedAt: LATER } }]);
    });
  });

  describe('when archived', () => {
    const id = randomUUID();
    const history: ConfigArtefactEvent[] = [created(id), { type: 'ConfigArtefactArchived', data: { id, archivedAt: LATER } }];

    it('refuses a new version (CONFIG_ARTEFACT_ARCHIVED, 409)', () => {
      artefact.given(history).when({ type: 'AddConfigArtefactVersion', data: { ...v2, now: LATER } }).thenThrows({ code: 'CONFIG_ARTEFACT_ARCHIVED', status: 409 });
    });

    it('refuses a rename', () => {
      artefact.given(history).when({ type: 'UpdateConfigArtefact', data: { changes: { name: 'x' }, now: LATER } }).thenThrows({ code: 'CONFIG_ARTEFACT_ARCHIVED' });
    });

    it('archives again as a no-op', () => {
      artefact.given(history).when({ type: 'ArchiveConfigArtefact', data: { now: LATER } }).then([]);
    });
  });
});

describe('checkContent', () => {
  it('hashes the canonical JSON, whatever the key order', () => {
    expect(checkContent({ b: 1, a: { d: 2, c: 3 } }, null).contentHash).toBe(checkContent({ a: { c: 3, d: 2 }, b: 1 }, null).contentHash);
    expect(v1.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });
});
