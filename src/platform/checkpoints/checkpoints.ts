import type { Queryable } from '../db/pool';
import type { Position } from '../event-store/event-store.port';
import { START } from '../event-store/event-store.port';

export const CHECKPOINT_CHANNEL = 'projection_checkpoint';

interface CheckpointRow {
  name: string;
  commit_position: string;
  prepare_position: string;
  events_applied: number;
  updated_at: Date;
}

export interface Checkpoint {
  readonly name: string;
  readonly position: Position;
  readonly eventsApplied: number;
  readonly updatedAt: Date;
}

function toCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    name: row.name,
    position: { commit: BigInt(row.commit_position), prepare: BigInt(row.prepare_position) },
    eventsApplied: row.events_applied,
    updatedAt: row.updated_at,
  };
}

const COLUMNS = `name, commit_position::text AS commit_position, prepare_position::text AS prepare_position, events_applied, updated_at`;

export async function readCheckpoint(db: Queryable, name: string): Promise<Position> {
  await db.query('INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
  const { rows } = await db.query<CheckpointRow>(`SELECT ${COLUMNS} FROM projection_checkpoints WHERE name = $1`, [name]);
  const row = rows[0];
  return row ? toCheckpoint(row).position : START;
}

export async function listCheckpoints(db: Queryable): Promise<Checkpoint[]> {
  const { rows } = await db.query<CheckpointRow>(`SELECT ${COLUMNS} FROM projection_checkpoints ORDER BY name`);
  return rows.map(toCheckpoint);
}

/**
 * Moves the checkpoint from `from` to `to` on the caller's transaction, and
 * announces it at commit. Returns false when the stored checkpoint is not
 * `from` (another instance or a rebuild moved it): the caller must roll back.
 */
export async function advanceCheckpoint(tx: Queryable, name: string, from: Position, to: Position, applied: number): Promise<boolean> {
  const result = await tx.query(
    `UPDATE projection_checkpoints
        SET commit_position = $4, prepare_position = $5, events_applied = events_applied + $6, updated_at = now()
      WHERE name = $1 AND commit_position = $2 AND prepare_position = $3`,
    [name, from.commit.toString(), from.prepare.toString(), to.commit.toString(), to.prepare.toString(), applied],
  );
  if (result.rowCount !== 1) return false;
  await tx.query('SELECT pg_notify($1, $2)', [CHECKPOINT_CHANNEL, `${name}:${to.commit}:${to.prepare}`]);
  return true;
}

/** Sets the checkpoint whatever it was (rebuild swap). */
export async function resetCheckpoint(tx: Queryable, name: string, to: Position, applied: number): Promise<void> {
  await tx.query(
    `INSERT INTO projection_checkpoints (name, commit_position, prepare_position, events_applied, updated_at)
     VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (name) DO UPDATE SET commit_position = $2, prepare_position = $3, events_applied = $4, updated_at = now()`,
    [name, to.commit.toString(), to.prepare.toString(), applied],
  );
  await tx.query('SELECT pg_notify($1, $2)', [CHECKPOINT_CHANNEL, `${name}:${to.commit}:${to.prepare}`]);
}
