CREATE TABLE sites (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  name text NOT NULL,
  address text,
  timezone text NOT NULL,
  location jsonb,
  labels jsonb NOT NULL DEFAULT '{}',
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX sites_created_idx ON sites (org_id, created_at, id);
CALL iotplane_make_tenant_table('sites');
