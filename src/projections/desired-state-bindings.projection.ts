import { DESIRED_STATE_BINDING_EVENT_TYPES, type DesiredStateBindingEvent } from '../commands/desired-state/desired-state-binding.decider';
import { assertNever } from '../commands/decider';
import { ident, orgIdOf, type Projection } from './projection';

/**
 * Desired-state bindings. An unbound binding keeps its row (unbound_at set),
 * and every statement is guarded by a conflict clause or the stream revision,
 * so a replay changes nothing.
 */
export const desiredStateBindingsProjection: Projection = {
  name: 'desired-state-bindings',
  tables: ['desired_state_bindings'],
  eventTypes: DESIRED_STATE_BINDING_EVENT_TYPES,
  async apply(tx, events, table) {
    const bindings = ident(table('desired_state_bindings'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as DesiredStateBindingEvent;
      const orgId = orgIdOf(recorded);
      const revision = Number(recorded.revision);
      switch (event.type) {
        case 'DesiredStateBound': {
          const d = event.data;
          await tx.query(
            `INSERT INTO ${bindings} (org_id, id, artefact_id, artefact_version, target_type, target_id, priority, version, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
            [orgId, d.id, d.artefactId, d.version === 'latest' ? null : d.version, d.targetType, d.targetId, d.priority, revision, d.boundAt, recorded.metadata.actor],
          );
          break;
        }
        case 'DesiredStateUnbound':
          await tx.query(`UPDATE ${bindings} SET unbound_at = $3, version = $4 WHERE org_id = $1 AND id = $2 AND version < $4`, [
            orgId,
            event.data.id,
            event.data.unboundAt,
            revision,
          ]);
          break;
        default:
          assertNever(event);
      }
    }
  },
};
