import { itemHash } from '../src/commands/packs/pack.content';
import { packDecider, type PackEvent } from '../src/commands/packs/pack.decider';
import { packInstallationDecider, type InstalledResource, type PackInstallationEvent } from '../src/commands/packs/pack-installation.decider';
import { spec } from './support/decider-spec';

const AT = '2025-01-01T00:00:00.000Z';
const content = { alertRules: [{ key: 'hot', name: 'Hot', conditions: [{ type: 'ABOVE' as const, threshold: 30 }] }] };
const other = { configArtefacts: [{ key: 'cfg', name: 'cfg', content: { a: 1 } }] };
const created: PackEvent = { type: 'PackCreated', data: { id: 'p1', name: 'pack', description: null, content, contentHash: itemHash(content), createdAt: AT } };

describe('Pack', () => {
  const pack = spec(packDecider);
  it('creates version 1 and adds immutable versions, none for content equal to the latest', () => {
    pack.given([]).when({ type: 'CreatePack', data: { id: 'p1', name: 'pack', description: null, content, contentHash: itemHash(content), now: AT } }).then([created]);
    pack.given([created]).when({ type: 'AddPackVersion', data: { content, contentHash: itemHash(content), now: AT } }).then([]);
    pack.given([created]).when({ type: 'AddPackVersion', data: { content: other, contentHash: itemHash(other), now: AT } }).then([
      { type: 'PackVersionAdded', data: { id: 'p1', version: 2, content: other, contentHash: itemHash(other), addedAt: AT } },
    ]);
    pack.given([]).when({ type: 'AddPackVersion', data: { content, contentHash: itemHash(content), now: AT } }).thenThrows({ code: 'PACK_NOT_FOUND', status: 404 });
  });
});

describe('PackInstallation', () => {
  const installation = spec(packInstallationDecider);
  const resources: InstalledResource[] = [{ kind: 'alertRules', key: 'hot', id: 'r1', hash: 'h' }];
  const target = { id: 'i1', packId: 'p1', targetType: 'SITE' as const, targetId: 's1' };
  const installed: PackInstallationEvent = { type: 'PackInstalled', data: { ...target, version: 1, resources, installedAt: AT } };

  it('records an install once; the same version again is nothing, another version is a conflict', () => {
    installation.given([]).when({ type: 'RecordInstall', data: { ...target, version: 1, resources, now: AT } }).then([installed]);
    installation.given([installed]).when({ type: 'RecordInstall', data: { ...target, version: 1, resources, now: AT } }).then([]);
    installation.given([installed]).when({ type: 'RecordInstall', data: { ...target, version: 2, resources, now: AT } }).thenThrows({ code: 'PACK_ALREADY_INSTALLED', status: 409 });
  });

  it('upgrades and uninstalls only an installed pack, and installs again after an uninstall', () => {
    installation.given([installed]).when({ type: 'RecordUpgrade', data: { toVersion: 2, resources: [], now: AT } }).then([
      { type: 'PackUpgraded', data: { id: 'i1', fromVersion: 1, toVersion: 2, resources: [], upgradedAt: AT } },
    ]);
    const uninstalled: PackInstallationEvent = { type: 'PackUninstalled', data: { id: 'i1', kept: [], uninstalledAt: AT } };
    installation.given([installed]).when({ type: 'RecordUninstall', data: { kept: [], now: AT } }).then([uninstalled]);
    installation.given([installed, uninstalled]).when({ type: 'RecordUninstall', data: { kept: [], now: AT } }).thenThrows({ code: 'PACK_INSTALLATION_NOT_FOUND', status: 404 });
    installation.given([installed, uninstalled]).when({ type: 'RecordUpgrade', data: { toVersion: 2, resources: [], now: AT } }).thenThrows({ code: 'PACK_INSTALLATION_NOT_FOUND', status: 404 });
    installation.given([installed, uninstalled]).when({ type: 'RecordInstall', data: { ...target, version: 1, resources, now: AT } }).then([installed]);
  });
});
