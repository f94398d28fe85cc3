-- Every read-model table is made a tenant table through this one procedure:
-- RLS enabled and forced, one policy on org_id for reads and writes (a
-- missing setting means no rows), SELECT for the API role, writes for the
-- trusted writer role. Projection rebuilds call it for their shadow tables.
CREATE PROCEDURE iotplane_make_tenant_table(tbl regclass)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format(
    'CREATE POLICY tenant_isolation ON %s USING (org_id = NULLIF(current_setting(''app.org_id'', true), '''')::uuid) '
    'WITH CHECK (org_id = NULLIF(current_setting(''app.org_id'', true), '''')::uuid)', tbl);
  EXECUTE format('GRANT SELECT ON %s TO iotplane_api', tbl);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO iotplane_writer', tbl);
END;
$$;
REVOKE ALL ON PROCEDURE iotplane_make_tenant_table(regclass) FROM PUBLIC;

CREATE TABLE organizations (
  org_id uuid PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CALL iotplane_make_tenant_table('organizations');

CREATE TABLE api_keys (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('viewer', 'member', 'admin')),
  prefix text NOT NULL,
  secret_hash text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  PRIMARY KEY (org_id, id),
  UNIQUE (prefix)
);
CALL iotplane_make_tenant_table('api_keys');
