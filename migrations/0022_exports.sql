-- Data exports (docs/exports.md).
--
-- `exports` is the read model of the export streams (one row per job, kept by
-- the exports projection; a deleted export's row goes). `export_runs` is not a
-- read model: it is the workers' lease table, one row per export with the
-- attempt that holds it, the lease's end and the progress the holder reports
-- at each heartbeat. Workers claim from `exports` (PENDING, or RUNNING whose
-- lease ran out) by taking the lease in `export_runs` with one statement, so
-- at most one worker runs an export at a time. A projection rebuild therefore
-- never touches a lease.
CREATE TABLE exports (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  scope_type text NOT NULL CHECK (scope_type IN ('DEVICE', 'SITE', 'DEVICE_GROUP', 'ORGANIZATION')),
  scope_id uuid NOT NULL,
  from_ts timestamptz NOT NULL,
  to_ts timestamptz NOT NULL,
  includes text[] NOT NULL,
  format text NOT NULL CHECK (format IN ('CSV', 'JSONL')),
  status text NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'READY', 'FAILED', 'EXPIRED', 'CANCELLED')),
  requested_by text NOT NULL,
  created_at timestamptz NOT NULL,
  -- The latest attempt started (0 while PENDING); each attempt writes its own file.
  attempt integer NOT NULL DEFAULT 0,
  started_at timestamptz,
  completed_at timestamptz,
  expires_at timestamptz,
  blob_key text,
  size_bytes bigint,
  reading_count bigint,
  annotation_count bigint,
  alert_count bigint,
  event_count bigint,
  failure_reason text,
  failed_at timestamptz,
  cancelled_at timestamptz,
  expired_at timestamptz,
  -- Revision in the export's stream of the last event applied: replays change nothing.
  revision bigint NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX exports_created_idx ON exports (org_id, created_at DESC, id DESC);
-- The workers' scans across organizations: jobs to run, and READY files to expire.
CREATE INDEX exports_open_idx ON exports (created_at) WHERE status IN ('PENDING', 'RUNNING');
CREATE INDEX exports_ready_idx ON exports (expires_at) WHERE status = 'READY';
CALL iotplane_make_tenant_table('exports');

CREATE TABLE export_runs (
  org_id uuid NOT NULL,
  export_id uuid NOT NULL,
  attempt integer NOT NULL,
  worker_id text NOT NULL,
  lease_until timestamptz NOT NULL,
  -- Rows written so far in this attempt, and the share of the work done when known.
  rows_so_far bigint NOT NULL DEFAULT 0,
  percent smallint CHECK (percent BETWEEN 0 AND 100),
  started_at timestamptz NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, export_id)
);
CALL iotplane_make_tenant_table('export_runs');
