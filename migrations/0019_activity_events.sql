-- The activity feed (docs/events.md): one row per domain event worth
-- showing, keyed by the event id so a replay inserts nothing twice, and
-- ordered by the event's position in the log (commit, prepare), which is
-- stable across rebuilds and is what cursors and SSE ids carry.
CREATE TABLE activity_events (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  commit_position bigint NOT NULL,
  prepare_position bigint NOT NULL,
  type text NOT NULL,
  occurred_at timestamptz NOT NULL,
  device_id uuid,
  site_id uuid,
  subject_type text NOT NULL,
  subject_id text NOT NULL,
  summary text NOT NULL,
  actor text NOT NULL,
  data jsonb NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX activity_events_position_idx ON activity_events (org_id, commit_position, prepare_position);
CREATE INDEX activity_events_type_idx ON activity_events (org_id, type, commit_position, prepare_position);
CREATE INDEX activity_events_device_idx ON activity_events (org_id, device_id, commit_position, prepare_position) WHERE device_id IS NOT NULL;
CREATE INDEX activity_events_site_idx ON activity_events (org_id, site_id, commit_position, prepare_position) WHERE site_id IS NOT NULL;
CREATE INDEX activity_events_occurred_idx ON activity_events (org_id, occurred_at);
CALL iotplane_make_tenant_table('activity_events');

-- What the feed's sentences need to know about subjects that later events
-- only name by id (a device's name and site, a command's name and device…),
-- kept by the same projection from the same events, so its summaries never
-- depend on another projection's progress. `revision` is the subject's
-- stream revision last applied: an older event never overwrites a newer one.
CREATE TABLE activity_subjects (
  org_id uuid NOT NULL,
  kind text NOT NULL,
  id text NOT NULL,
  name text,
  device_id uuid,
  site_id uuid,
  facts jsonb NOT NULL DEFAULT '{}',
  revision bigint NOT NULL,
  PRIMARY KEY (org_id, kind, id)
);
CALL iotplane_make_tenant_table('activity_subjects');
