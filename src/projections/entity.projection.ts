import type { EntityDecider } from '../commands/entities/entity.decider';
import type { PoolClient } from '../platform/db/pool';
import type { RecordedEvent } from '../platform/event-store/event-store.port';
import { ident, orgIdOf, type Projection } from './projection';

/** camelCase field → snake_case column; objects and arrays are stored as jsonb. */
export type ColumnMap<Fields> = { readonly [K in keyof Fields]-?: string };

function sqlValue(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : (value ?? null);
}

/** How a deleted row is kept: the column stamped with the deletion time, and columns set to constants (e.g. a status). */
export interface SoftDelete {
  readonly column: string;
  readonly set?: Readonly<Record<string, string>>;
}

export interface EntityProjectionSpec<Name extends string, Fields> {
  readonly name: string;
  readonly table: string;
  readonly decider: EntityDecider<Name, Fields>;
  readonly columns: ColumnMap<Fields>;
  /** Keep deleted rows instead of removing them: `true` stamps deleted_at. */
  readonly softDelete?: boolean | SoftDelete;
  /**
   * The table has unique constraints besides its key, which the API checks
   * before the command. An event that still breaks one (two requests racing
   * past that check) is skipped, the first in the log winning, instead of
   * halting the projection for every organization.
   */
  readonly skipUniqueViolations?: boolean;
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/**
 * The read model of an entity: one row per entity with a column per field,
 * `version` (the stream revision, served as ETag), created_at, updated_at.
 * Upserts are idempotent, so a rebuild may replay freely.
 */
export function entityProjection<Name extends string, Fields>(spec: EntityProjectionSpec<Name, Fields>): Projection {
  const [created, updated, deleted] = spec.decider.eventTypes;
  const fields = Object.keys(spec.columns) as (keyof Fields & string)[];
  const columnOf = (field: string): string => ident(spec.columns[field as keyof Fields]);
  const softDelete: SoftDelete | undefined = spec.softDelete === true ? { column: 'deleted_at' } : spec.softDelete || undefined;

  /** One multi-row INSERT for a run of creations: replays are dominated by them. */
  const insertCreated = async (tx: PoolClient, t: string, events: readonly RecordedEvent[]): Promise<void> => {
    const columns = fields.map(columnOf);
    const width = 4 + fields.length;
    const values: unknown[] = [];
    const rows = events.map((event, row) => {
      const data = event.data as Record<string, unknown> & { id: string; createdAt: string };
      values.push(orgIdOf(event), data.id, Number(event.revision), data.createdAt, ...fields.map((f) => sqlValue(data[f])));
      const p = (i: number): string => `$${row * width + i + 1}`;
      return `(${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}, ${p(3)}${fields.map((_, i) => `, ${p(4 + i)}`).join('')})`;
    });
    await tx.query(
      `INSERT INTO ${t} (org_id, id, version, created_at, updated_at${columns.map((c) => `, ${c}`).join('')})
       VALUES ${rows.join(', ')}
       ON CONFLICT (org_id, id) DO NOTHING`,
      values,
    );
  };

  const applyOne = async (tx: PoolClient, t: string, event: RecordedEvent): Promise<void> => {
    const orgId = orgIdOf(event);
    const version = Number(event.revision);
    if (event.type === created) {
      await insertCreated(tx, t, [event]);
    } else if (event.type === updated) {
      const data = event.data as { id: string; changes: Record<string, unknown>; updatedAt: string };
      const changed = fields.filter((f) => f in data.changes);
      const sets = changed.map((f, i) => `${columnOf(f)} = $${i + 5}`);
      await tx.query(
        `UPDATE ${t} SET version = $3, updated_at = $4${sets.map((s) => `, ${s}`).join('')}
          WHERE org_id = $1 AND id = $2 AND version < $3`,
        [orgId, data.id, version, data.updatedAt, ...changed.map((f) => sqlValue(data.changes[f]))],
      );
    } else if (event.type === deleted) {
      const data = event.data as { id: string; deletedAt: string };
      if (softDelete) {
        const constants = Object.entries(softDelete.set ?? {});
        const sets = constants.map(([column], i) => `, ${ident(column)} = $${i + 5}`).join('');
        await tx.query(
          `UPDATE ${t} SET version = $3, updated_at = $4, ${ident(softDelete.column)} = $4${sets} WHERE org_id = $1 AND id = $2`,
          [orgId, data.id, version, data.deletedAt, ...constants.map(([, value]) => value)],
        );
      } else {
        await tx.query(`DELETE FROM ${t} WHERE org_id = $1 AND id = $2`, [orgId, data.id]);
      }
    }
  };

  /** An event that breaks a unique constraint besides the key is skipped (first in the log wins). */
  const applySkippingLosers = async (tx: PoolClient, t: string, event: RecordedEvent): Promise<void> => {
    await tx.query('SAVEPOINT entity_event');
    try {
      await applyOne(tx, t, event);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await tx.query('ROLLBACK TO SAVEPOINT entity_event');
    }
    await tx.query('RELEASE SAVEPOINT entity_event');
  };

  return {
    name: spec.name,
    tables: [spec.table],
    eventTypes: spec.decider.eventTypes,
    async apply(tx, events, table) {
      const t = ident(table(spec.table));
      let run: RecordedEvent[] = [];
      const flush = async (): Promise<void> => {
        const creations = run;
        run = [];
        if (creations.length === 0) return;
        if (!spec.skipUniqueViolations) return insertCreated(tx, t, creations);
        await tx.query('SAVEPOINT entity_run');
        try {
          await insertCreated(tx, t, creations);
          await tx.query('RELEASE SAVEPOINT entity_run');
        } catch (error) {
          if (!isUniqueViolation(error)) throw error;
          // Someone in the run lost a uniqueness race: one by one, skipping the losers.
          await tx.query('ROLLBACK TO SAVEPOINT entity_run');
          for (const event of creations) await applySkippingLosers(tx, t, event);
        }
      };
      for (const event of events) {
        if (event.type === created) {
          run.push(event);
          continue;
        }
        await flush();
        if (spec.skipUniqueViolations) await applySkippingLosers(tx, t, event);
        else await applyOne(tx, t, event);
      }
      await flush();
    },
  };
}
