import { COMMAND_BATCH_EVENT_TYPES, type CommandBatchEvent } from '../commands/device-commands/command-batch.events';
import { DEVICE_COMMAND_EVENT_TYPES, type DeviceCommandEvent } from '../commands/device-commands/device-command.events';
import { assertNever } from '../commands/decider';
import type { PoolClient } from '../platform/db/pool';
import { ident, orgIdOf, type Projection } from './projection';

/** The columns a step sets besides status and version (one statement per step). */
function step(event: Exclude<DeviceCommandEvent, { type: 'CommandQueued' }>): { status: string; set: Record<string, unknown> } {
  switch (event.type) {
    case 'CommandSent':
      return { status: 'SENT', set: { sent_at: event.data.at } };
    case 'CommandAcknowledged':
      return { status: 'ACKNOWLEDGED', set: { acknowledged_at: event.data.at } };
    case 'CommandSucceeded':
      return { status: 'SUCCEEDED', set: { completed_at: event.data.at, result: event.data.result === null ? null : JSON.stringify(event.data.result) } };
    case 'CommandFailed':
      return { status: 'FAILED', set: { completed_at: event.data.at, error: JSON.stringify(event.data.error) } };
    case 'CommandTimedOut':
      return { status: 'TIMED_OUT', set: { completed_at: event.data.at } };
    case 'CommandExpired':
      return { status: 'EXPIRED', set: { completed_at: event.data.at } };
    case 'CommandCancelled':
      return { status: 'CANCELLED', set: { completed_at: event.data.at } };
    default:
      return assertNever(event);
  }
}

async function applyStep(tx: PoolClient, table: string, orgId: string, revision: number, event: Exclude<DeviceCommandEvent, { type: 'CommandQueued' }>) {
  const { status, set } = step(event);
  const columns = Object.keys(set);
  const assignments = columns.map((column, i) => `${ident(column)} = $${i + 5}`).join(', ');
  await tx.query(`UPDATE ${table} SET status = $3, version = $4, ${assignments} WHERE org_id = $1 AND id = $2 AND version < $4`, [
    orgId,
    event.data.id,
    status,
    revision,
    ...columns.map((column) => set[column]),
  ]);
}

/**
 * Device commands and command batches. Inserts skip rows that exist and
 * updates are guarded by the stream revision, so a replay changes nothing.
 * A batch's counts are not stored: they are read from device_commands.
 */
export const deviceCommandsProjection: Projection = {
  name: 'device-commands',
  tables: ['device_commands', 'command_batches'],
  eventTypes: [...DEVICE_COMMAND_EVENT_TYPES, ...COMMAND_BATCH_EVENT_TYPES],
  async apply(tx, events, table) {
    const commands = ident(table('device_commands'));
    const batches = ident(table('command_batches'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as DeviceCommandEvent | CommandBatchEvent;
      const orgId = orgIdOf(recorded);
      const revision = Number(recorded.revision);
      switch (event.type) {
        case 'CommandQueued': {
          const d = event.data;
          await tx.query(
            `INSERT INTO ${commands} (org_id, id, device_id, batch_id, name, params, status, timeout_seconds, expires_at, created_at, created_by, version)
             VALUES ($1, $2, $3, $4, $5, $6, 'QUEUED', $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
            [orgId, d.id, d.deviceId, d.batchId, d.name, JSON.stringify(d.params), d.timeoutSeconds, d.expiresAt, d.queuedAt, recorded.metadata.actor, revision],
          );
          break;
        }
        case 'CommandBatchCreated': {
          const d = event.data;
          await tx.query(
            `INSERT INTO ${batches} (org_id, id, group_id, name, params, timeout_seconds, expires_at, total, created_at, created_by, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
            [orgId, d.id, d.groupId, d.name, JSON.stringify(d.params), d.timeoutSeconds, d.expiresAt, d.commands.length, d.createdAt, recorded.metadata.actor, revision],
          );
          break;
        }
        default:
          await applyStep(tx, commands, orgId, revision, event);
      }
    }
  },
};
