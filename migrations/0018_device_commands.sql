-- Device commands (docs/commands.md): one row per command with its current
-- status, and one row per bulk command (batch), whose counts by status are
-- computed from device_commands when read. No foreign keys: the API checks
-- the device and the group under RLS before the command is queued.
CREATE TABLE device_commands (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  device_id uuid NOT NULL,
  batch_id uuid,
  name text NOT NULL,
  params jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('QUEUED', 'SENT', 'ACKNOWLEDGED', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'EXPIRED', 'CANCELLED')),
  timeout_seconds integer NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  sent_at timestamptz,
  acknowledged_at timestamptz,
  completed_at timestamptz,
  result jsonb,
  error jsonb,
  version integer NOT NULL,
  PRIMARY KEY (org_id, id)
);
-- A device's commands, newest first, optionally by status (GET /devices/{id}/commands).
CREATE INDEX device_commands_device_idx ON device_commands (org_id, device_id, created_at, id);
-- The dispatcher's scans across organizations only ever look at open commands: a small partial index.
CREATE INDEX device_commands_open_idx ON device_commands (status, device_id) WHERE status IN ('QUEUED', 'SENT', 'ACKNOWLEDGED');
-- Counts of a batch by status.
CREATE INDEX device_commands_batch_idx ON device_commands (org_id, batch_id, status) WHERE batch_id IS NOT NULL;
CALL iotplane_make_tenant_table('device_commands');

CREATE TABLE command_batches (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  group_id uuid NOT NULL,
  name text NOT NULL,
  params jsonb NOT NULL,
  timeout_seconds integer NOT NULL,
  expires_at timestamptz NOT NULL,
  total integer NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  version integer NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX command_batches_created_idx ON command_batches (org_id, created_at, id);
CREATE INDEX command_batches_group_idx ON command_batches (org_id, group_id, created_at, id);
CALL iotplane_make_tenant_table('command_batches');
