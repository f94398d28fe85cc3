import { CONFIG_ARTEFACT_EVENT_TYPES, type ConfigArtefactEvent } from '../commands/config-artefacts/config-artefact.decider';
import { assertNever } from '../commands/decider';
import { ident, orgIdOf, type Projection } from './projection';

/**
 * Artefacts and their versions. Every statement is guarded by the stream
 * revision (`version < $n`) or a conflict clause, so a replay changes nothing.
 */
export const configArtefactsProjection: Projection = {
  name: 'config-artefacts',
  tables: ['config_artefacts', 'config_artefact_versions'],
  eventTypes: CONFIG_ARTEFACT_EVENT_TYPES,
  async apply(tx, events, table) {
    const artefacts = ident(table('config_artefacts'));
    const versions = ident(table('config_artefact_versions'));
    const insertVersion = (orgId: string, id: string, version: number, d: { content: unknown; schema: unknown; contentHash: string }, at: string, by: string) =>
      tx.query(
        `INSERT INTO ${versions} (org_id, artefact_id, version, content, schema, content_hash, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
        [orgId, id, version, JSON.stringify(d.content), d.schema === null ? null : JSON.stringify(d.schema), d.contentHash, at, by],
      );
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as ConfigArtefactEvent;
      const orgId = orgIdOf(recorded);
      const revision = Number(recorded.revision);
      switch (event.type) {
        case 'ConfigArtefactCreated': {
          const d = event.data;
          await tx.query(
            `INSERT INTO ${artefacts} (org_id, id, name, description, status, latest_version, content_hash, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'ACTIVE', 1, $5, $6, $7, $7) ON CONFLICT DO NOTHING`,
            [orgId, d.id, d.name, d.description, d.contentHash, revision, d.createdAt],
          );
          await insertVersion(orgId, d.id, 1, d, d.createdAt, recorded.metadata.actor);
          break;
        }
        case 'ConfigArtefactVersionAdded': {
          const d = event.data;
          await insertVersion(orgId, d.id, d.version, d, d.addedAt, recorded.metadata.actor);
          await tx.query(
            `UPDATE ${artefacts} SET latest_version = $3, content_hash = $4, version = $5, updated_at = $6
              WHERE org_id = $1 AND id = $2 AND version < $5`,
            [orgId, d.id, d.version, d.contentHash, revision, d.addedAt],
          );
          break;
        }
        case 'ConfigArtefactUpdated': {
          const { changes } = event.data;
          await tx.query(
            `UPDATE ${artefacts} SET name = COALESCE($3, name), description = CASE WHEN $4 THEN $5 ELSE description END, version = $6, updated_at = $7
              WHERE org_id = $1 AND id = $2 AND version < $6`,
            [orgId, event.data.id, changes.name ?? null, 'description' in changes, changes.description ?? null, revision, event.data.updatedAt],
          );
          break;
        }
        case 'ConfigArtefactArchived':
          await tx.query(
            `UPDATE ${artefacts} SET status = 'ARCHIVED', version = $3, updated_at = $4 WHERE org_id = $1 AND id = $2 AND version < $3`,
            [orgId, event.data.id, revision, event.data.archivedAt],
          );
          break;
        default:
          assertNever(event);
      }
    }
  },
};
