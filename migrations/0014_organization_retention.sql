-- Per-organization readings retention (null: the platform default,
-- READINGS_RETENTION_DAYS) and the organization's version (its stream
-- revision, served as ETag). Every organization so far has only its
-- OrganizationCreated event (nothing renamed one), so 0 is its revision.
ALTER TABLE organizations
  ADD COLUMN readings_retention_days integer CHECK (readings_retention_days BETWEEN 1 AND 3650),
  ADD COLUMN version bigint NOT NULL DEFAULT 0;

-- The readings maintenance worker (src/workers/readings-partitions.ts): for
-- each day of readings, the retention policy (organizations whose rows of
-- that day are expired, with their retention) it last purged the day for.
-- A day is scanned again only when that policy changes, not every hour.
-- Platform state: no org_id, nothing granted to the API role.
CREATE TABLE readings_retention_passes (
  day date PRIMARY KEY,
  policy text NOT NULL,
  passed_at timestamptz NOT NULL
);
