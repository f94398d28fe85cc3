import { ConflictError, NotFoundError } from '../../platform/errors';
import { assertNever, type Decider, type DomainEvent } from '../decider';
import type { PackKind } from './pack.content';

export type PackTargetType = 'SITE' | 'DEVICE_GROUP';

/** A resource an installation made from a pack item, with the item's hash when it was applied. */
export interface InstalledResource {
  kind: PackKind;
  key: string;
  id: string;
  hash: string;
  /** A config artefact's binding to the target. */
  bindingId?: string;
}

export interface InstallationTarget {
  packId: string;
  targetType: PackTargetType;
  targetId: string;
}

export type PackInstalled = DomainEvent<'PackInstalled', InstallationTarget & { id: string; version: number; resources: InstalledResource[]; installedAt: string }>;
export type PackUpgraded = DomainEvent<'PackUpgraded', { id: string; fromVersion: number; toVersion: number; resources: InstalledResource[]; upgradedAt: string }>;
/** `kept`: resources left in place because something else still uses them (e.g. a sensor profile of a sensor). */
export type PackUninstalled = DomainEvent<'PackUninstalled', { id: string; kept: InstalledResource[]; uninstalledAt: string }>;
export type PackInstallationEvent = PackInstalled | PackUpgraded | PackUninstalled;
export const PACK_INSTALLATION_EVENT_TYPES: readonly PackInstallationEvent['type'][] = ['PackInstalled', 'PackUpgraded', 'PackUninstalled'];

export type PackInstallationCommand =
  | { type: 'RecordInstall'; data: InstallationTarget & { id: string; version: number; resources: InstalledResource[]; now: string } }
  | { type: 'RecordUpgrade'; data: { toVersion: number; resources: InstalledResource[]; now: string } }
  | { type: 'RecordUninstall'; data: { kept: InstalledResource[]; now: string } };

export type PackInstallationState =
  | { status: 'absent' }
  | (InstallationTarget & { status: 'INSTALLED' | 'UNINSTALLED'; id: string; version: number; resources: InstalledResource[] });

export const packInstallationNotFound = (): NotFoundError => new NotFoundError('PACK_INSTALLATION_NOT_FOUND', 'No pack installation with this id.');

/**
 * An installation of a pack on a target. The resources are created by the
 * install request before the installation is recorded, with ids derived
 * from the installation and the item key, so a retried request finds what
 * an interrupted one made and records the installation once.
 */
export const packInstallationDecider: Decider<PackInstallationCommand, PackInstallationEvent, PackInstallationState> = {
  initialState: { status: 'absent' },
  decide(command, state) {
    switch (command.type) {
      case 'RecordInstall': {
        if (state.status === 'INSTALLED') {
          if (state.version === command.data.version) return [];
          throw new ConflictError('PACK_ALREADY_INSTALLED', `Version ${state.version} of the pack is installed on this target; upgrade it instead.`);
        }
        const { now, ...data } = command.data;
        return [{ type: 'PackInstalled', data: { ...data, installedAt: now } }];
      }
      case 'RecordUpgrade': {
        if (state.status !== 'INSTALLED') throw packInstallationNotFound();
        if (state.version === command.data.toVersion) return [];
        return [{ type: 'PackUpgraded', data: { id: state.id, fromVersion: state.version, toVersion: command.data.toVersion, resources: command.data.resources, upgradedAt: command.data.now } }];
      }
      case 'RecordUninstall':
        if (state.status !== 'INSTALLED') throw packInstallationNotFound();
        return [{ type: 'PackUninstalled', data: { id: state.id, kept: command.data.kept, uninstalledAt: command.data.now } }];
      default:
        return assertNever(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'PackInstalled': {
        const { installedAt: _at, ...data } = event.data;
        return { status: 'INSTALLED', ...data };
      }
      case 'PackUpgraded':
        return state.status === 'absent' ? state : { ...state, version: event.data.toVersion, resources: event.data.resources };
      case 'PackUninstalled':
        return state.status === 'absent' ? state : { ...state, status: 'UNINSTALLED', resources: [] };
      default:
        return assertNever(event);
    }
  },
};

export function packInstallationStream(id: string): string {
  return `pack-installation-${id}`;
}
