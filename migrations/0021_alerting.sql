-- Alert rules (an entity: one row per rule, version = stream revision)
-- and alerts (one row per alert; at most one open per rule and sensor,
-- which the alert streams guarantee, not this table).
CREATE TABLE alert_rules (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  name text NOT NULL,
  description text,
  enabled boolean NOT NULL,
  severity text NOT NULL,
  scope_type text NOT NULL,
  scope_id uuid NOT NULL,
  sensor_key text,
  operator text NOT NULL,
  conditions jsonb NOT NULL,
  for_seconds integer NOT NULL,
  hysteresis double precision NOT NULL,
  channel_ids jsonb NOT NULL,
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX alert_rules_created_idx ON alert_rules (org_id, created_at, id);
CALL iotplane_make_tenant_table('alert_rules');

CREATE TABLE alerts (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  rule_id uuid NOT NULL,
  rule_name text NOT NULL,
  sensor_id uuid NOT NULL,
  device_id uuid NOT NULL,
  severity text NOT NULL,
  status text NOT NULL CHECK (status IN ('OPEN', 'ACKNOWLEDGED', 'RESOLVED')),
  message text NOT NULL,
  channel_ids jsonb NOT NULL,
  trigger_ts timestamptz,
  trigger_value double precision,
  raised_at timestamptz NOT NULL,
  acknowledged_at timestamptz,
  acknowledged_by text,
  note text,
  resolved_at timestamptz,
  resolve_reason text,
  clear_ts timestamptz,
  clear_value double precision,
  -- Revision in the (rule, sensor) stream of this alert's last event.
  revision bigint NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX alerts_raised_idx ON alerts (org_id, raised_at DESC, id DESC);
CREATE INDEX alerts_open_idx ON alerts (org_id, rule_id, sensor_id) WHERE status <> 'RESOLVED';
CALL iotplane_make_tenant_table('alerts');
