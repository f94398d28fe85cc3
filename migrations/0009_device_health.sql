-- Connectivity and heartbeat facts per device; the status shown is derived
-- from them at read time (see src/api/routes/device-health.queries.ts).
CREATE TABLE device_health (
  org_id uuid NOT NULL,
  device_id uuid NOT NULL,
  connected boolean NOT NULL DEFAULT false,
  connected_at timestamptz,
  disconnected_at timestamptz,
  disconnect_reason text,
  last_seen_at timestamptz,
  firmware_version text,
  signal_dbm double precision,
  battery_percent double precision,
  uptime_seconds bigint,
  PRIMARY KEY (org_id, device_id)
);
CALL iotplane_make_tenant_table('device_health');
