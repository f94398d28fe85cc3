-- btree_gin lets the tag index lead with org_id like every other index
-- (trusted extension: the database owner may create it).
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- Uniques include org_id: a global one would tell an org that another org
-- uses a serial number or key. References to other tables have no foreign
-- keys, since a projection rebuild swaps tables one by one; the API checks them.
CREATE TABLE devices (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  name text NOT NULL,
  site_id uuid,
  device_profile_id uuid,
  serial_number text,
  labels jsonb NOT NULL DEFAULT '{}',
  tags jsonb NOT NULL DEFAULT '[]',
  status text NOT NULL CHECK (status IN ('PENDING', 'ACTIVE', 'DISABLED', 'DECOMMISSIONED')),
  decommissioned_at timestamptz,
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id),
  UNIQUE (org_id, serial_number)
);
CREATE INDEX devices_created_idx ON devices (org_id, created_at, id);
CREATE INDEX devices_site_idx ON devices (org_id, site_id, created_at, id);
CREATE INDEX devices_profile_idx ON devices (org_id, device_profile_id, created_at, id);
CREATE INDEX devices_status_idx ON devices (org_id, status, created_at, id);
CREATE INDEX devices_tags_idx ON devices USING gin (org_id, tags);
CALL iotplane_make_tenant_table('devices');

CREATE TABLE components (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  device_id uuid NOT NULL,
  key text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('BOARD', 'CAMERA', 'SENSOR_HEAD', 'MODEM', 'POWER', 'OTHER')),
  name text,
  model text,
  serial_number text,
  firmware_version text,
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id),
  UNIQUE (org_id, device_id, key)
);
CREATE INDEX components_created_idx ON components (org_id, created_at, id);
CREATE INDEX components_kind_idx ON components (org_id, kind, created_at, id);
CALL iotplane_make_tenant_table('components');

CREATE TABLE sensors (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  device_id uuid NOT NULL,
  component_id uuid,
  key text NOT NULL,
  name text,
  sensor_profile_id uuid,
  unit text,
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id),
  UNIQUE (org_id, device_id, key)
);
CREATE INDEX sensors_created_idx ON sensors (org_id, created_at, id);
CREATE INDEX sensors_component_idx ON sensors (org_id, component_id, created_at, id);
CREATE INDEX sensors_profile_idx ON sensors (org_id, sensor_profile_id, created_at, id);
CALL iotplane_make_tenant_table('sensors');
