-- Desired-state bindings: an artefact version (or `latest`, version NULL)
-- bound to a device, device group or site. Unbinding keeps the row
-- (unbound_at set) so that a replay of the bind cannot bring it back.
-- No foreign keys: the API checks the artefact and target under RLS.
CREATE TABLE desired_state_bindings (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  artefact_id uuid NOT NULL,
  artefact_version integer,
  target_type text NOT NULL CHECK (target_type IN ('DEVICE', 'DEVICE_GROUP', 'SITE')),
  target_id uuid NOT NULL,
  priority integer NOT NULL,
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  unbound_at timestamptz,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX desired_state_bindings_created_idx ON desired_state_bindings (org_id, created_at, id);
CREATE INDEX desired_state_bindings_target_idx ON desired_state_bindings (org_id, target_type, target_id);
CALL iotplane_make_tenant_table('desired_state_bindings');
