import type { Queryable } from '../platform/db/pool';
import { ident } from './projection';

/** Subjects whose later events name them only by id. */
export type SubjectKind = 'DEVICE' | 'SITE' | 'SENSOR' | 'DEVICE_GROUP' | 'CONFIG_ARTEFACT' | 'DESIRED_STATE_BINDING' | 'COMMAND';

export interface Subject {
  /** Display name (a sensor's key, a command's name). */
  readonly name: string | null;
  readonly deviceId: string | null;
  readonly siteId: string | null;
  readonly facts: Readonly<Record<string, unknown>>;
}

interface SubjectRow {
  name: string | null;
  device_id: string | null;
  site_id: string | null;
  facts: Record<string, unknown>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A uuid column value from event data: anything else is dropped rather than halting the projection for everyone. */
export function uuidOrNull(value: unknown): string | null {
  return typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : null;
}

/**
 * The activity projection's own directory of subjects (`activity_subjects`),
 * read and written on the projection's transaction for one organization:
 * every lookup names the org explicitly, since the writer role bypasses RLS.
 */
export class SubjectDirectory {
  private readonly table: string;

  constructor(
    private readonly tx: Queryable,
    table: string,
    private readonly orgId: string,
  ) {
    this.table = ident(table);
  }

  async find(kind: SubjectKind, id: string): Promise<Subject | undefined> {
    const { rows } = await this.tx.query<SubjectRow>(
      `SELECT name, device_id, site_id, facts FROM ${this.table} WHERE org_id = $1 AND kind = $2 AND id = $3`,
      [this.orgId, kind, id],
    );
    const row = rows[0];
    return row ? { name: row.name, deviceId: row.device_id, siteId: row.site_id, facts: row.facts } : undefined;
  }

  /** Stores the subject as of `revision` of its stream, unless a later revision is already stored. */
  async remember(kind: SubjectKind, id: string, revision: bigint, subject: Subject): Promise<void> {
    await this.tx.query(
      `INSERT INTO ${this.table} (org_id, kind, id, name, device_id, site_id, facts, revision)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (org_id, kind, id) DO UPDATE
         SET name = EXCLUDED.name, device_id = EXCLUDED.device_id, site_id = EXCLUDED.site_id, facts = EXCLUDED.facts, revision = EXCLUDED.revision
       WHERE ${this.table}.revision < EXCLUDED.revision`,
      [this.orgId, kind, id, subject.name, uuidOrNull(subject.deviceId), uuidOrNull(subject.siteId), JSON.stringify(subject.facts), revision.toString()],
    );
  }

  /** Applies a partial change to a known subject (an unknown one stays unknown). */
  async change(kind: SubjectKind, id: string, revision: bigint, current: Subject | undefined, change: Partial<Subject>): Promise<void> {
    if (!current) return;
    await this.remember(kind, id, revision, { ...current, ...change, facts: { ...current.facts, ...(change.facts ?? {}) } });
  }
}
