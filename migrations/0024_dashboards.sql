-- Dashboards (an entity: one row per dashboard, version = stream revision;
-- the layout is the whole widget document) and each site's default
-- dashboard (one row per site that ever had one; dashboard_id is null once
-- cleared, so the row keeps the stream revision for idempotent replays).
CREATE TABLE dashboards (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  name text NOT NULL,
  description text,
  site_id uuid,
  visibility text NOT NULL CHECK (visibility IN ('PRIVATE', 'ORGANIZATION')),
  owner text NOT NULL,
  layout jsonb NOT NULL,
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX dashboards_created_idx ON dashboards (org_id, created_at, id);
CREATE INDEX dashboards_site_idx ON dashboards (org_id, site_id, created_at, id);
CALL iotplane_make_tenant_table('dashboards');

CREATE TABLE site_default_dashboards (
  org_id uuid NOT NULL,
  site_id uuid NOT NULL,
  dashboard_id uuid,
  set_by text,
  set_at timestamptz,
  version integer NOT NULL,
  PRIMARY KEY (org_id, site_id)
);
CREATE INDEX site_default_dashboards_dashboard_idx ON site_default_dashboards (org_id, dashboard_id);
CALL iotplane_make_tenant_table('site_default_dashboards');
