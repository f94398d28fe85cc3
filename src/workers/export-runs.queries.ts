import type { ExportFormat, ExportInclude, ExportScopeType } from '../commands/exports/export.events';
import type { Queryable } from '../platform/db/pool';

/**
 * The workers' SQL over `exports` (the read model: which jobs exist and
 * what they ask for) and `export_runs` (their leases and progress). Run as
 * the writer role: workers serve every organization, with explicit org ids.
 */

/** A job a worker holds the lease of. */
export interface ExportClaim {
  readonly orgId: string;
  readonly id: string;
  readonly attempt: number;
  readonly scopeType: ExportScopeType;
  readonly scopeId: string;
  readonly from: Date;
  readonly to: Date;
  readonly includes: readonly ExportInclude[];
  readonly format: ExportFormat;
}

interface CandidateRow {
  org_id: string;
  id: string;
  attempt: number;
  scope_type: ExportScopeType;
  scope_id: string;
  from_ts: Date;
  to_ts: Date;
  includes: ExportInclude[];
  format: ExportFormat;
}

/**
 * Jobs to run, oldest first: PENDING ones, and RUNNING ones whose worker
 * stopped renewing its lease (a crash) — or that lost it on shutdown.
 */
export async function runnableExports(db: Queryable, limit: number): Promise<Omit<ExportClaim, 'attempt'>[]> {
  const { rows } = await db.query<CandidateRow>(
    `SELECT e.org_id, e.id, e.attempt, e.scope_type, e.scope_id, e.from_ts, e.to_ts, e.includes, e.format
       FROM exports e LEFT JOIN export_runs r ON r.org_id = e.org_id AND r.export_id = e.id
      WHERE e.status IN ('PENDING', 'RUNNING') AND (r.export_id IS NULL OR r.lease_until < now())
      ORDER BY e.created_at LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    orgId: r.org_id,
    id: r.id,
    scopeType: r.scope_type,
    scopeId: r.scope_id,
    from: r.from_ts,
    to: r.to_ts,
    includes: r.includes,
    format: r.format,
  }));
}

/**
 * Takes the job's lease for a new attempt, numbered after every attempt
 * seen so far — in one statement, so of several workers exactly one gets
 * it (the others' upsert finds a lease that has not run out and returns no
 * row). Answers the attempt, or undefined when another worker holds it.
 */
export async function claimExport(db: Queryable, orgId: string, id: string, workerId: string, leaseSeconds: number): Promise<number | undefined> {
  const { rows } = await db.query<{ attempt: number }>(
    `INSERT INTO export_runs AS r (org_id, export_id, attempt, worker_id, lease_until, rows_so_far, percent, started_at, heartbeat_at)
     SELECT e.org_id, e.id, e.attempt + 1, $3, now() + $4 * interval '1 second', 0, NULL, now(), now()
       FROM exports e WHERE e.org_id = $1 AND e.id = $2 AND e.status IN ('PENDING', 'RUNNING')
     ON CONFLICT (org_id, export_id) DO UPDATE
        SET attempt = GREATEST(r.attempt + 1, EXCLUDED.attempt), worker_id = EXCLUDED.worker_id, lease_until = EXCLUDED.lease_until,
            rows_so_far = 0, percent = NULL, started_at = now(), heartbeat_at = now()
      WHERE r.lease_until < now()
     RETURNING r.attempt`,
    [orgId, id, workerId, leaseSeconds],
  );
  return rows[0]?.attempt;
}

export interface Heartbeat {
  /** False: the lease ran out and another worker took the job. */
  readonly held: boolean;
  /** The export's status in the read model (undefined once deleted). */
  readonly status: string | undefined;
}

/** Renews the lease, records the progress, and reports whether the job was cancelled meanwhile. */
export async function heartbeat(
  db: Queryable,
  run: { orgId: string; id: string; attempt: number; workerId: string },
  progress: { rows: number; percent: number | null },
  leaseSeconds: number,
): Promise<Heartbeat> {
  const { rows } = await db.query<{ status: string | null }>(
    `UPDATE export_runs r SET lease_until = now() + $5 * interval '1 second', heartbeat_at = now(), rows_so_far = $6, percent = $7
      WHERE r.org_id = $1 AND r.export_id = $2 AND r.attempt = $3 AND r.worker_id = $4
     RETURNING (SELECT e.status FROM exports e WHERE e.org_id = r.org_id AND e.id = r.export_id) AS status`,
    [run.orgId, run.id, run.attempt, run.workerId, leaseSeconds, progress.rows, progress.percent],
  );
  const row = rows[0];
  return { held: row !== undefined, status: row?.status ?? undefined };
}

/**
 * Ends this attempt's lease. `done`: the job reached an end (ready, failed,
 * cancelled) and must not be claimed again while the read model catches up;
 * otherwise it is free for the next claim at once (shutdown, a start that
 * decided nothing).
 */
export async function endRun(db: Queryable, run: { orgId: string; id: string; attempt: number; workerId: string }, done: boolean): Promise<void> {
  await db.query(
    `UPDATE export_runs SET lease_until = CASE WHEN $5 THEN 'infinity'::timestamptz ELSE now() END, heartbeat_at = now()
      WHERE org_id = $1 AND export_id = $2 AND attempt = $3 AND worker_id = $4`,
    [run.orgId, run.id, run.attempt, run.workerId, done],
  );
}

/** Statuses of the given exports in the read model (to stop running jobs that were cancelled). */
export async function exportStatuses(db: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; status: string }>('SELECT id, status FROM exports WHERE id = ANY($1::uuid[])', [ids]);
  return new Map(rows.map((r) => [r.id, r.status]));
}

/** Leases of exports that are over (or deleted): nothing will claim them again. */
export async function pruneRuns(db: Queryable): Promise<number> {
  const result = await db.query(
    `DELETE FROM export_runs r
      WHERE NOT EXISTS (SELECT 1 FROM exports e WHERE e.org_id = r.org_id AND e.id = r.export_id AND e.status IN ('PENDING', 'RUNNING'))`,
  );
  return result.rowCount ?? 0;
}
