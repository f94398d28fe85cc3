import { PACK_INSTALLATION_EVENT_TYPES, type PackInstallationEvent } from '../commands/packs/pack-installation.decider';
import { PACK_EVENT_TYPES, type PackEvent } from '../commands/packs/pack.decider';
import { assertNever } from '../commands/decider';
import { ident, orgIdOf, type Projection } from './projection';

/** Packs with every version, and their installations; guarded by conflicts and revisions, so a replay changes nothing. */
export const packsProjection: Projection = {
  name: 'packs',
  tables: ['packs', 'pack_versions', 'pack_installations'],
  eventTypes: [...PACK_EVENT_TYPES, ...PACK_INSTALLATION_EVENT_TYPES],
  async apply(tx, events, table) {
    const packs = ident(table('packs'));
    const versions = ident(table('pack_versions'));
    const installations = ident(table('pack_installations'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as PackEvent | PackInstallationEvent;
      const orgId = orgIdOf(recorded);
      const revision = Number(recorded.revision);
      switch (event.type) {
        case 'PackCreated': {
          const d = event.data;
          await tx.query(
            `INSERT INTO ${packs} (org_id, id, name, description, latest_version, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $5) ON CONFLICT DO NOTHING`,
            [orgId, d.id, d.name, d.description, d.createdAt],
          );
          await tx.query(`INSERT INTO ${versions} (org_id, pack_id, version, content, content_hash, created_at) VALUES ($1, $2, 1, $3, $4, $5) ON CONFLICT DO NOTHING`, [
            orgId,
            d.id,
            JSON.stringify(d.content),
            d.contentHash,
            d.createdAt,
          ]);
          break;
        }
        case 'PackVersionAdded': {
          const d = event.data;
          await tx.query(`INSERT INTO ${versions} (org_id, pack_id, version, content, content_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, [
            orgId,
            d.id,
            d.version,
            JSON.stringify(d.content),
            d.contentHash,
            d.addedAt,
          ]);
          await tx.query(`UPDATE ${packs} SET latest_version = $3, updated_at = $4 WHERE org_id = $1 AND id = $2 AND latest_version < $3`, [orgId, d.id, d.version, d.addedAt]);
          break;
        }
        case 'PackInstalled': {
          const d = event.data;
          await tx.query(
            `INSERT INTO ${installations} AS i (org_id, id, pack_id, version, target_type, target_id, status, resources, kept, installed_at, updated_at, revision)
             VALUES ($1, $2, $3, $4, $5, $6, 'INSTALLED', $7, '[]', $8, $8, $9)
             ON CONFLICT (org_id, id) DO UPDATE SET version = EXCLUDED.version, status = 'INSTALLED', resources = EXCLUDED.resources, kept = '[]',
               installed_at = EXCLUDED.installed_at, updated_at = EXCLUDED.updated_at, revision = EXCLUDED.revision
             WHERE i.revision < EXCLUDED.revision`,
            [orgId, d.id, d.packId, d.version, d.targetType, d.targetId, JSON.stringify(d.resources), d.installedAt, revision],
          );
          break;
        }
        case 'PackUpgraded':
          await tx.query(
            `UPDATE ${installations} SET version = $3, resources = $4, updated_at = $5, revision = $6 WHERE org_id = $1 AND id = $2 AND revision < $6`,
            [orgId, event.data.id, event.data.toVersion, JSON.stringify(event.data.resources), event.data.upgradedAt, revision],
          );
          break;
        case 'PackUninstalled':
          await tx.query(
            `UPDATE ${installations} SET status = 'UNINSTALLED', resources = '[]', kept = $3, updated_at = $4, revision = $5 WHERE org_id = $1 AND id = $2 AND revision < $5`,
            [orgId, event.data.id, JSON.stringify(event.data.kept), event.data.uninstalledAt, revision],
          );
          break;
        default:
          assertNever(event);
      }
    }
  },
};
