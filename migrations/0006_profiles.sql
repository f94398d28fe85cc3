CREATE TABLE sensor_profiles (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  name text NOT NULL,
  description text,
  quantity text NOT NULL,
  unit text NOT NULL,
  valid_range jsonb,
  expected_interval_seconds integer,
  precision integer,
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX sensor_profiles_created_idx ON sensor_profiles (org_id, created_at, id);
CREATE INDEX sensor_profiles_quantity_idx ON sensor_profiles (org_id, quantity, created_at, id);
CALL iotplane_make_tenant_table('sensor_profiles');

CREATE TABLE device_profiles (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  name text NOT NULL,
  description text,
  expected_components jsonb NOT NULL DEFAULT '[]',
  expected_sensors jsonb NOT NULL DEFAULT '[]',
  default_config jsonb NOT NULL DEFAULT '{}',
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX device_profiles_created_idx ON device_profiles (org_id, created_at, id);
CALL iotplane_make_tenant_table('device_profiles');
