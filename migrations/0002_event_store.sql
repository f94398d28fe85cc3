-- The Postgres event store. Global order is (transaction_id, position):
-- readers only read rows whose transaction is older than the oldest one still
-- in flight, so an event that commits late is never skipped.
CREATE TABLE es_streams (
  stream_name text PRIMARY KEY,
  revision bigint NOT NULL DEFAULT -1,
  truncate_before bigint NOT NULL DEFAULT 0,
  deleted boolean NOT NULL DEFAULT false,
  metadata jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE es_events (
  position bigint GENERATED ALWAYS AS IDENTITY,
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_name text NOT NULL,
  revision bigint NOT NULL,
  event_id uuid NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (transaction_id, position),
  UNIQUE (stream_name, revision),
  UNIQUE (stream_name, event_id)
);
CREATE INDEX es_events_type_idx ON es_events (type, transaction_id, position);

-- One round trip per append. Locks the stream row (serialising writers of
-- this stream only), replays an append whose event ids are already stored,
-- checks the expected revision, inserts, and wakes readers at commit.
-- p_expected: 'any' | 'no_stream' | 'stream_exists' | '<revision>'.
CREATE FUNCTION es_append(
  p_stream text, p_expected text, p_ids uuid[], p_types text[], p_data jsonb[], p_metadata jsonb[]
) RETURNS TABLE (ok boolean, revision bigint, commit_position text, prepare_position bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_rev bigint;
  v_deleted boolean;
  v_exists boolean;
  v_n int := cardinality(p_ids);
  v_existing bigint[];
  v_pos bigint;
  v_xid xid8;
BEGIN
  SELECT s.revision, s.deleted INTO v_rev, v_deleted FROM es_streams s WHERE s.stream_name = p_stream FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO es_streams (stream_name) VALUES (p_stream) ON CONFLICT (stream_name) DO NOTHING;
    SELECT s.revision, s.deleted INTO v_rev, v_deleted FROM es_streams s WHERE s.stream_name = p_stream FOR UPDATE;
  END IF;
  v_exists := v_rev >= 0 AND NOT v_deleted;

  SELECT array_agg(e.revision ORDER BY e.revision) INTO v_existing
    FROM es_events e WHERE e.stream_name = p_stream AND e.event_id = ANY (p_ids);
  IF v_existing IS NOT NULL THEN
    -- A retry of an append that already happened: same ids, contiguous, and
    -- (for an exact expectation) at the same place. Anything else conflicts.
    IF cardinality(v_existing) = v_n
       AND v_existing[v_n] - v_existing[1] = v_n - 1
       AND (p_expected !~ '^[0-9]+$' OR v_existing[1] = p_expected::bigint + 1)
       AND (p_expected <> 'no_stream' OR v_existing[1] = 0) THEN
      SELECT e.transaction_id, e.position INTO v_xid, v_pos
        FROM es_events e WHERE e.stream_name = p_stream AND e.revision = v_existing[v_n];
      RETURN QUERY SELECT true, v_existing[v_n], v_xid::text, v_pos;
    ELSE
      RETURN QUERY SELECT false, v_rev, NULL::text, NULL::bigint;
    END IF;
    RETURN;
  END IF;

  IF (p_expected = 'no_stream' AND v_exists)
     OR (p_expected = 'stream_exists' AND NOT v_exists)
     OR (p_expected ~ '^[0-9]+$' AND (NOT v_exists OR v_rev <> p_expected::bigint)) THEN
    RETURN QUERY SELECT false, v_rev, NULL::text, NULL::bigint;
    RETURN;
  END IF;

  WITH inserted AS (
    INSERT INTO es_events (stream_name, revision, event_id, type, data, metadata)
    SELECT p_stream, v_rev + u.ord, u.id, u.t, u.d, u.m
      FROM unnest(p_ids, p_types, p_data, p_metadata) WITH ORDINALITY AS u (id, t, d, m, ord)
    RETURNING es_events.position
  )
  SELECT max(inserted.position) INTO v_pos FROM inserted;
  UPDATE es_streams s SET revision = v_rev + v_n, deleted = false WHERE s.stream_name = p_stream;
  PERFORM pg_notify('es_appended', '');
  RETURN QUERY SELECT true, v_rev + v_n, pg_current_xact_id()::text, v_pos;
END;
$$;

-- Projection checkpoints: written in the same transaction as the rows.
CREATE TABLE projection_checkpoints (
  name text PRIMARY KEY,
  commit_position bigint NOT NULL DEFAULT 0,
  prepare_position bigint NOT NULL DEFAULT 0,
  events_applied bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
