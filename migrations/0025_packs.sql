-- Packs: versioned bundles of profiles, alert rule templates and config
-- artefacts (pack_versions keeps every version immutable), and their
-- installations on a site or device group with the resources each made.
CREATE TABLE packs (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  name text NOT NULL,
  description text,
  latest_version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX packs_created_idx ON packs (org_id, created_at, id);
CALL iotplane_make_tenant_table('packs');

CREATE TABLE pack_versions (
  org_id uuid NOT NULL,
  pack_id uuid NOT NULL,
  version integer NOT NULL,
  content jsonb NOT NULL,
  content_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, pack_id, version)
);
CALL iotplane_make_tenant_table('pack_versions');

CREATE TABLE pack_installations (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  pack_id uuid NOT NULL,
  version integer NOT NULL,
  target_type text NOT NULL CHECK (target_type IN ('SITE', 'DEVICE_GROUP')),
  target_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('INSTALLED', 'UNINSTALLED')),
  resources jsonb NOT NULL,
  kept jsonb NOT NULL DEFAULT '[]',
  installed_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  revision bigint NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX pack_installations_created_idx ON pack_installations (org_id, installed_at, id);
CALL iotplane_make_tenant_table('pack_installations');
