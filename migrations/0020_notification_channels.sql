-- Notification channels (docs/notifications.md).
--
-- notification_channels is the read model of the channel streams (projection
-- `notification-channels`). Its config never holds a secret: a webhook's
-- signing secret and a Slack incoming-webhook URL live in
-- notification_channel_secrets, written by the command handler, never by a
-- projection and never into the event log (events carry only the secret's id).
CREATE TABLE notification_channels (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  name text NOT NULL,
  type text NOT NULL CHECK (type IN ('WEBHOOK', 'SLACK', 'EMAIL')),
  enabled boolean NOT NULL,
  config jsonb NOT NULL,
  secret_id uuid,
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX notification_channels_created_idx ON notification_channels (org_id, created_at, id);
CALL iotplane_make_tenant_table('notification_channels');

-- One row per secret ever issued to a channel; the channel's current one is
-- the secret_id its events name. A row whose event was never appended (the
-- append failed) is never named and goes with the channel's delete.
-- Tenant-isolated like every table, but readable by the writer role only:
-- the API role has no privilege at all, so no API read can reach a secret.
CREATE TABLE notification_channel_secrets (
  org_id uuid NOT NULL,
  channel_id uuid NOT NULL,
  id uuid NOT NULL,
  secret text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, channel_id, id)
);
ALTER TABLE notification_channel_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_channel_secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notification_channel_secrets
  USING (org_id = NULLIF(current_setting('app.org_id', true), '')::uuid)
  WITH CHECK (org_id = NULLIF(current_setting('app.org_id', true), '')::uuid);
GRANT SELECT, INSERT, DELETE ON notification_channel_secrets TO iotplane_writer;

-- One delivery per (alert event, channel), written by the notifier that
-- follows the alert events (idempotent on event_id, channel_id) and by the
-- test-send route (event_id NULL). Not a projection: the delivery loop
-- updates its rows, and a replay must never send again.
CREATE TABLE notification_deliveries (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  channel_id uuid NOT NULL,
  alert_id uuid,
  event_id uuid,
  event_type text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'DEAD')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  last_status_code integer,
  last_error text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  delivered_at timestamptz,
  PRIMARY KEY (org_id, id),
  UNIQUE (org_id, event_id, channel_id)
);
-- The delivery loop's claim: due pending rows, oldest due first, across organizations.
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at) WHERE status = 'PENDING';
-- The delivery log: a channel's deliveries, newest first, optionally of one alert.
CREATE INDEX notification_deliveries_channel_idx ON notification_deliveries (org_id, channel_id, created_at DESC, id DESC);
CREATE INDEX notification_deliveries_alert_idx ON notification_deliveries (org_id, alert_id, created_at DESC, id DESC) WHERE alert_id IS NOT NULL;
CALL iotplane_make_tenant_table('notification_deliveries');
