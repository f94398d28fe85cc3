-- Readings: the hot path. One row per measured value, written by the
-- ingester with COPY as the trusted writer role (COPY FROM is refused under
-- RLS) and read by the API under RLS. Unique on (sensor_id, ts): a resent
-- message never duplicates a reading. A sensor id belongs to one
-- organization, so the unique index reveals nothing across tenants.
--
-- Storage is a TimescaleDB hypertable when the extension is preloaded in
-- this server, else native daily range partitions (readings_pYYYYMMDD)
-- created ahead, and on demand for back-fill, by readings_ensure_partition().
-- quality: 0 GOOD, 1 UNCERTAIN, 2 BAD (src/ingest/reading-quality.ts).
CREATE TABLE readings_storage (
  mode text NOT NULL CHECK (mode IN ('native', 'timescaledb')),
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton)
);

DO $$
DECLARE
  timescale boolean := EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
    AND current_setting('shared_preload_libraries', true) LIKE '%timescaledb%';
  columns text := 'org_id uuid NOT NULL, device_id uuid NOT NULL, sensor_id uuid NOT NULL, ts timestamptz NOT NULL, '
    'value double precision NOT NULL, received_at timestamptz NOT NULL, seq bigint, '
    'quality smallint NOT NULL DEFAULT 0 CHECK (quality BETWEEN 0 AND 2)';
BEGIN
  IF timescale THEN
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    EXECUTE format('CREATE TABLE readings (%s)', columns);
    PERFORM create_hypertable('readings', 'ts', chunk_time_interval => interval '1 day');
    EXECUTE 'ALTER TABLE readings SET (timescaledb.compress, timescaledb.compress_segmentby = ''sensor_id'', timescaledb.compress_orderby = ''ts'')';
    PERFORM add_compression_policy('readings', interval '7 days');
    INSERT INTO readings_storage (mode) VALUES ('timescaledb');
  ELSE
    EXECUTE format('CREATE TABLE readings (%s) PARTITION BY RANGE (ts)', columns);
    INSERT INTO readings_storage (mode) VALUES ('native');
  END IF;
END $$;

CREATE UNIQUE INDEX readings_sensor_ts_key ON readings (sensor_id, ts);
CALL iotplane_make_tenant_table('readings');
-- The tenant as an InitPlan, evaluated once per query rather than once per row:
-- the aggregations read millions of rows (measured: 7–9 s → 4.3 s for a month of
-- 100 sensors). Queries through the parent use the parent's policy.
ALTER POLICY tenant_isolation ON readings
  USING (org_id = (SELECT NULLIF(current_setting('app.org_id', true), '')::uuid))
  WITH CHECK (org_id = (SELECT NULLIF(current_setting('app.org_id', true), '')::uuid));

-- A partition is a table of its own: RLS and its policy are not inherited,
-- so each one gets them here, before it is attached. Privileges stay on the
-- parent only (inserts and selects through the parent are checked there).
-- Created standalone and then attached: ATTACH PARTITION takes only a SHARE
-- UPDATE EXCLUSIVE lock on the parent, which COPY and reads do not wait for
-- (CREATE TABLE … PARTITION OF would take ACCESS EXCLUSIVE). Idempotent; a
-- no-op under TimescaleDB, which creates chunks itself.
CREATE FUNCTION readings_ensure_partition(day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  part text := format('readings_p%s', to_char(day, 'YYYYMMDD'));
BEGIN
  IF (SELECT mode FROM readings_storage) <> 'native' THEN
    RETURN false;
  END IF;
  IF to_regclass(part) IS NOT NULL THEN
    RETURN false;
  END IF;
  BEGIN
    EXECUTE format('CREATE TABLE %I (LIKE readings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
  EXCEPTION WHEN duplicate_table OR unique_violation THEN
    RETURN false; -- another process created it meanwhile (its row type collides first)
  END;
  EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', part);
  EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', part);
  EXECUTE format(
    'CREATE POLICY tenant_isolation ON %I USING (org_id = (SELECT NULLIF(current_setting(''app.org_id'', true), '''')::uuid)) '
    'WITH CHECK (org_id = (SELECT NULLIF(current_setting(''app.org_id'', true), '''')::uuid))', part);
  EXECUTE format('ALTER TABLE readings ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
    part, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
  RETURN true;
END;
$$;
REVOKE ALL ON FUNCTION readings_ensure_partition(date) FROM PUBLIC;

-- Today and the next week exist from the start; the worker keeps a week ahead.
SELECT readings_ensure_partition(current_date + d) FROM generate_series(-1, 7) AS d;

-- Readings the pipeline would not store, with the reason and the original
-- payload (a whole message when it could not be read, else one reading).
-- Never dropped: released (re-run through the pipeline) or discarded by an
-- admin, each action an event with its actor.
CREATE TABLE quarantined_readings (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  device_id uuid,
  sensor_key text,
  sensor_id uuid,
  reason text NOT NULL,
  detail text NOT NULL,
  source text NOT NULL CHECK (source IN ('MQTT', 'HTTP')),
  seq bigint,
  payload text NOT NULL,
  received_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'QUARANTINED' CHECK (status IN ('QUARANTINED', 'RELEASED', 'DISCARDED')),
  resolved_at timestamptz,
  resolved_by text,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX quarantined_readings_received_idx ON quarantined_readings (org_id, received_at, id);
CREATE INDEX quarantined_readings_device_idx ON quarantined_readings (org_id, device_id, received_at, id);
CREATE INDEX quarantined_readings_reason_idx ON quarantined_readings (org_id, reason, received_at, id);
CALL iotplane_make_tenant_table('quarantined_readings');

-- Per device: the highest message sequence number up to which every message
-- is stored or quarantined (`committed_seq`, published to the device on
-- devices/{id}/readings/committed), and the numbers stored above a hole
-- (`ahead`, sorted) since `ahead_since`. Several ingesters share a device's
-- messages, so this lives here, advanced in the transaction that stores them.
CREATE TABLE device_ingest_progress (
  org_id uuid NOT NULL,
  device_id uuid NOT NULL,
  committed_seq bigint,
  ahead bigint[] NOT NULL DEFAULT '{}',
  ahead_since timestamptz,
  messages bigint NOT NULL DEFAULT 0,
  gaps bigint NOT NULL DEFAULT 0,
  missing bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, device_id)
);
CALL iotplane_make_tenant_table('device_ingest_progress');

-- Records the sequence numbers of stored messages, one (org, device, seq)
-- triple per message, and returns the devices whose committed_seq moved, or
-- that sent a number at or below it again (a resend: the device missed its
-- confirmation, so it is published again). The count starts at the lowest
-- number seen when that is 0 or 1 — also when it arrives after a higher one
-- (two writers, or two ingesters, may commit a device's first messages out of
-- order); a device first seen higher waits for its hole like any other.
-- Rows are created first (ON CONFLICT DO NOTHING), then locked in id order,
-- so concurrent ingesters cannot deadlock; one statement does every device
-- of the batch (a loop per device cost 1.5 µs per reading in bench:ingest).
CREATE FUNCTION ingest_record_sequences(p_org uuid[], p_device uuid[], p_seq bigint[])
RETURNS TABLE (device_id uuid, committed_seq bigint)
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO device_ingest_progress AS p (org_id, device_id, updated_at)
  SELECT DISTINCT x.org, x.dev, now() FROM unnest(p_org, p_device) AS x(org, dev) ORDER BY x.dev
  ON CONFLICT ON CONSTRAINT device_ingest_progress_pkey DO NOTHING;

  -- One statement for every device of the batch. Per device: the numbers
  -- above its count (or above seq 0/1 - 1 when it has none yet), distinct and
  -- numbered 1..k; those with s - k = the count continue it without a hole,
  -- the rest stay ahead.
  RETURN QUERY
  WITH batch AS (
    SELECT x.org, x.dev, array_agg(x.s ORDER BY x.s) AS seqs, count(*) AS n
      FROM unnest(p_org, p_device, p_seq) AS x(org, dev, s)
     GROUP BY x.org, x.dev
  ), locked AS (
    SELECT p.org_id, p.device_id, p.committed_seq AS before, p.ahead AS old_ahead, b.seqs, b.n,
           coalesce(p.committed_seq, CASE WHEN least(b.seqs[1], p.ahead[1]) <= 1 THEN least(b.seqs[1], p.ahead[1]) - 1 END) AS start
      FROM device_ingest_progress p JOIN batch b ON p.org_id = b.org AND p.device_id = b.dev
     ORDER BY p.device_id
       FOR UPDATE OF p
  ), advanced AS (
    SELECT l.org_id, l.device_id, l.before, l.seqs, l.n, agg.new_committed, agg.new_ahead
      FROM locked l
     CROSS JOIN LATERAL (
       SELECT coalesce(max(t.s) FILTER (WHERE t.s - t.rn = l.start), l.start) AS new_committed,
              coalesce(array_agg(t.s ORDER BY t.s) FILTER (WHERE l.start IS NULL OR t.s - t.rn > l.start), '{}') AS new_ahead
         FROM (SELECT u.s, row_number() OVER (ORDER BY u.s) AS rn
                 FROM (SELECT DISTINCT x AS s FROM unnest(l.old_ahead || l.seqs) AS x WHERE l.start IS NULL OR x > l.start) u) t
     ) agg
  ), updated AS (
    UPDATE device_ingest_progress p
       SET committed_seq = a.new_committed,
           ahead = a.new_ahead,
           -- the lowest hole's wait starts when it becomes the lowest
           ahead_since = CASE WHEN cardinality(a.new_ahead) = 0 THEN NULL
                              WHEN p.ahead_since IS NULL OR a.new_committed IS DISTINCT FROM a.before THEN now()
                              ELSE p.ahead_since END,
           messages = p.messages + a.n,
           updated_at = now()
      FROM advanced a
     WHERE p.org_id = a.org_id AND p.device_id = a.device_id
    RETURNING p.device_id, p.committed_seq, a.before, a.seqs
  )
  SELECT u.device_id, u.committed_seq FROM updated u
   WHERE u.committed_seq IS DISTINCT FROM u.before OR (u.before IS NOT NULL AND u.seqs[1] <= u.before);
END;
$$;
REVOKE ALL ON FUNCTION ingest_record_sequences(uuid[], uuid[], bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ingest_record_sequences(uuid[], uuid[], bigint[]) TO iotplane_writer;

-- A hole that stayed open longer than the devices' resend interval will not
-- be filled: the device no longer has those messages. Closes such holes,
-- moving committed_seq past them, and returns each one for the gap event.
CREATE FUNCTION ingest_close_gaps(p_older_than interval)
RETURNS TABLE (org_id uuid, device_id uuid, from_seq bigint, to_seq bigint, committed_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  cur bigint;
  rest bigint[];
BEGIN
  FOR r IN
    SELECT p.org_id, p.device_id, p.committed_seq, p.ahead FROM device_ingest_progress p
     WHERE p.ahead_since < now() - p_older_than
     ORDER BY p.device_id FOR UPDATE
  LOOP
    -- The hole is below the lowest stored number; close it and take every contiguous number after.
    org_id := r.org_id;
    device_id := r.device_id;
    from_seq := CASE WHEN r.committed_seq IS NULL THEN NULL ELSE r.committed_seq + 1 END;
    to_seq := r.ahead[1] - 1;
    cur := r.ahead[1];
    rest := r.ahead[2:];
    WHILE cardinality(rest) > 0 AND rest[1] = cur + 1 LOOP
      cur := rest[1];
      rest := rest[2:];
    END LOOP;
    UPDATE device_ingest_progress p
       SET committed_seq = cur, ahead = rest,
           ahead_since = CASE WHEN cardinality(rest) = 0 THEN NULL ELSE now() END,
           gaps = p.gaps + CASE WHEN from_seq IS NULL THEN 0 ELSE 1 END,
           missing = p.missing + CASE WHEN from_seq IS NULL THEN 0 ELSE to_seq - from_seq + 1 END,
           updated_at = now()
     WHERE p.org_id = r.org_id AND p.device_id = r.device_id;
    committed_seq := cur;
    RETURN NEXT;
  END LOOP;
END;
$$;
REVOKE ALL ON FUNCTION ingest_close_gaps(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ingest_close_gaps(interval) TO iotplane_writer;
