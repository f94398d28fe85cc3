-- Analytics (docs/analytics.md): annotation classes, annotations on a time
-- range of a sensor, device or site, and reference pairs (a sensor and its
-- reference instrument) with their manually entered reference readings.
-- Entity read models: one row per entity, version = stream revision.
CREATE TABLE annotation_classes (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  name text NOT NULL,
  colour text NOT NULL,
  description text,
  allowed_scope_types jsonb NOT NULL,
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id)
);
-- Names are unique per organization whatever their case; the API checks first and answers 409.
CREATE UNIQUE INDEX annotation_classes_name_key ON annotation_classes (org_id, lower(name));
CREATE INDEX annotation_classes_created_idx ON annotation_classes (org_id, created_at, id);
CALL iotplane_make_tenant_table('annotation_classes');

-- Read by the exports too (rows whose [starts_at, ends_at] overlaps an export's range): keep the column names.
CREATE TABLE annotations (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  class_id uuid NOT NULL,
  scope_type text NOT NULL CHECK (scope_type IN ('SENSOR', 'DEVICE', 'SITE')),
  scope_id uuid NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  note text,
  author text NOT NULL,
  value double precision,
  confidence double precision,
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX annotations_starts_idx ON annotations (org_id, starts_at, id);
CREATE INDEX annotations_scope_idx ON annotations (org_id, scope_id, starts_at, id);
CREATE INDEX annotations_class_idx ON annotations (org_id, class_id, starts_at, id);
CALL iotplane_make_tenant_table('annotations');

CREATE TABLE reference_pairs (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  name text NOT NULL,
  description text,
  sensor_id uuid NOT NULL,
  reference_type text NOT NULL CHECK (reference_type IN ('SENSOR', 'MANUAL')),
  reference_sensor_id uuid,
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  tolerance_seconds double precision NOT NULL,
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX reference_pairs_created_idx ON reference_pairs (org_id, created_at, id);
CREATE INDEX reference_pairs_sensor_idx ON reference_pairs (org_id, sensor_id);
CALL iotplane_make_tenant_table('reference_pairs');

-- A MANUAL pair's reference readings; the key serves the comparison's nearest-neighbour lookups.
CREATE TABLE reference_readings (
  org_id uuid NOT NULL,
  pair_id uuid NOT NULL,
  ts timestamptz NOT NULL,
  value double precision NOT NULL,
  recorded_at timestamptz NOT NULL,
  -- Revision of the pair's stream that recorded this value: a replayed older event never overwrites a newer one.
  revision bigint NOT NULL,
  PRIMARY KEY (org_id, pair_id, ts)
);
CALL iotplane_make_tenant_table('reference_readings');
