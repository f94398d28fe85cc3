-- Roles are cluster-wide; creating them is idempotent and tolerates a
-- concurrent creator. The login user running migrations owns every table.
DO $$
BEGIN
  BEGIN
    CREATE ROLE iotplane_api NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  BEGIN
    CREATE ROLE iotplane_writer NOLOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
END $$;

-- The login user switches to these roles per transaction (SET LOCAL ROLE).
GRANT iotplane_api TO CURRENT_USER;
GRANT iotplane_writer TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO iotplane_api, iotplane_writer;
