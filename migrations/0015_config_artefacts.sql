-- Config artefacts: one row per artefact (its latest version's hash and
-- schema) and one row per version, whose content is never rewritten.
-- Names are unique per organization by the API's check in this read model;
-- no unique index, so that two creates racing past the check cannot halt
-- the projection for every organization.
CREATE TABLE config_artefacts (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  name text NOT NULL,
  description text,
  status text NOT NULL CHECK (status IN ('ACTIVE', 'ARCHIVED')),
  latest_version integer NOT NULL,
  content_hash text NOT NULL,
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX config_artefacts_created_idx ON config_artefacts (org_id, created_at, id);
CREATE INDEX config_artefacts_name_idx ON config_artefacts (org_id, lower(name));
CALL iotplane_make_tenant_table('config_artefacts');

CREATE TABLE config_artefact_versions (
  org_id uuid NOT NULL,
  artefact_id uuid NOT NULL,
  version integer NOT NULL,
  content jsonb NOT NULL,
  schema jsonb,
  content_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  PRIMARY KEY (org_id, artefact_id, version)
);
CALL iotplane_make_tenant_table('config_artefact_versions');
