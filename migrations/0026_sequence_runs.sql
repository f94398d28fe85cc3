-- Message sequence numbers go to the database as runs of consecutive numbers
-- per device (src/ingest/readings/message-sequences.ts) rather than one
-- (org, device, seq) triple per message: a batch of 5,000 single-reading
-- messages from 50 devices is 50 runs. Same bookkeeping as
-- ingest_record_sequences (0013), which this replaces: per device, the runs
-- above its count and the numbers it kept ahead are merged into islands; the
-- island starting right after the count continues it, the rest stay ahead
-- (as single numbers, sorted). Checked against the per-message function on
-- random batches with holes, duplicates, reordering and resends.
CREATE FUNCTION ingest_record_sequence_runs(p_org uuid[], p_device uuid[], p_from bigint[], p_to bigint[], p_count int[])
RETURNS TABLE (device_id uuid, committed_seq bigint)
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO device_ingest_progress AS p (org_id, device_id, updated_at)
  SELECT DISTINCT x.org, x.dev, now() FROM unnest(p_org, p_device) AS x(org, dev) ORDER BY x.dev
  ON CONFLICT ON CONSTRAINT device_ingest_progress_pkey DO NOTHING;

  -- Counting starts at the lowest number seen when that is 0 or 1 (also when it arrives
  -- after a higher one); a device first seen higher waits for its hole like any other.
  RETURN QUERY
  WITH batch AS (
    SELECT x.org, x.dev, array_agg(x.f) AS froms, array_agg(x.t) AS tos, min(x.f) AS lowest, sum(x.n) AS n
      FROM unnest(p_org, p_device, p_from, p_to, p_count) AS x(org, dev, f, t, n)
     GROUP BY x.org, x.dev
  ), locked AS (
    SELECT p.org_id, p.device_id, p.committed_seq AS before, p.ahead AS old_ahead, b.froms, b.tos, b.lowest, b.n,
           coalesce(p.committed_seq, CASE WHEN least(b.lowest, p.ahead[1]) <= 1 THEN least(b.lowest, p.ahead[1]) - 1 END) AS start
      FROM device_ingest_progress p JOIN batch b ON p.org_id = b.org AND p.device_id = b.dev
     ORDER BY p.device_id
       FOR UPDATE OF p
  ), advanced AS (
    SELECT l.org_id, l.device_id, l.before, l.lowest, l.n, agg.new_committed, agg.new_ahead
      FROM locked l
     CROSS JOIN LATERAL (
       SELECT coalesce(max(i.t) FILTER (WHERE i.f = l.start + 1), l.start) AS new_committed,
              coalesce(array_agg(i.f ORDER BY i.f) FILTER (WHERE l.start IS NULL OR i.f <> l.start + 1), '{}') AS ahead_from,
              coalesce(array_agg(i.t ORDER BY i.f) FILTER (WHERE l.start IS NULL OR i.f <> l.start + 1), '{}') AS ahead_to
         FROM (
           -- islands: the runs above the count, and the numbers kept ahead, merged where they overlap or touch
           SELECT min(g.f) AS f, max(g.t) AS t
             FROM (SELECT m.f, m.t, sum(m.brk) OVER (ORDER BY m.f, m.t) AS island
                     FROM (SELECT r.f, r.t,
                                  CASE WHEN r.f <= max(r.t) OVER (ORDER BY r.f, r.t ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) + 1 THEN 0 ELSE 1 END AS brk
                             FROM (SELECT greatest(u.f, l.start + 1) AS f, u.t FROM unnest(l.froms, l.tos) AS u(f, t) WHERE l.start IS NULL OR u.t > l.start
                                   UNION ALL
                                   SELECT a, a FROM unnest(l.old_ahead) AS a WHERE l.start IS NULL OR a > l.start) r) m) g
            GROUP BY g.island
       ) i
     ) agg0
     CROSS JOIN LATERAL (SELECT agg0.new_committed, coalesce((SELECT array_agg(s ORDER BY s) FROM unnest(agg0.ahead_from, agg0.ahead_to) AS h(f, t), generate_series(h.f, h.t) AS s), '{}') AS new_ahead) agg
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
    RETURNING p.device_id, p.committed_seq, a.before, a.lowest
  )
  SELECT u.device_id, u.committed_seq FROM updated u
   WHERE u.committed_seq IS DISTINCT FROM u.before OR (u.before IS NOT NULL AND u.lowest <= u.before);
END;
$$;
REVOKE ALL ON FUNCTION ingest_record_sequence_runs(uuid[], uuid[], bigint[], bigint[], int[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ingest_record_sequence_runs(uuid[], uuid[], bigint[], bigint[], int[]) TO iotplane_writer;

DROP FUNCTION ingest_record_sequences(uuid[], uuid[], bigint[]);
