-- readings_ensure_partition (0013) lost a race now and then: when two
-- sessions create the same day's partition at the same moment, the loser's
-- CREATE TABLE can fail on the row type the winner just made, as
-- duplicate_object ("type … already exists"), which it did not catch; the
-- caller (a back-fill batch, or the partition worker) then failed. It is now
-- caught like duplicate_table and unique_violation. Otherwise unchanged.
CREATE OR REPLACE FUNCTION readings_ensure_partition(day date) RETURNS boolean
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
  EXCEPTION WHEN duplicate_table OR duplicate_object OR unique_violation THEN
    RETURN false; -- another session created it meanwhile
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
