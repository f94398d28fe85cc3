-- What the platform last published to a device on devices/{id}/desired and
-- what the device last reported on devices/{id}/reported. Both come from
-- the device's desired-state-{id} and reported-state-{id} streams; the
-- revisions make a replay change nothing.
CREATE TABLE device_states (
  org_id uuid NOT NULL,
  device_id uuid NOT NULL,
  desired jsonb,
  desired_version text,
  desired_sources jsonb NOT NULL DEFAULT '[]',
  desired_revision bigint NOT NULL DEFAULT -1,
  published_at timestamptz,
  reported jsonb,
  reported_version text,
  reported_applied_version text,
  reported_revision bigint NOT NULL DEFAULT -1,
  reported_at timestamptz,
  PRIMARY KEY (org_id, device_id)
);
-- The publisher finds the devices an artefact, binding or group last contributed to.
CREATE INDEX device_states_sources_idx ON device_states USING gin (desired_sources jsonb_path_ops);
CALL iotplane_make_tenant_table('device_states');
