CREATE TABLE device_groups (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  name text NOT NULL,
  description text,
  kind text NOT NULL CHECK (kind IN ('STATIC', 'DYNAMIC')),
  tag_selector jsonb,
  labels jsonb NOT NULL DEFAULT '{}',
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX device_groups_created_idx ON device_groups (org_id, created_at, id);
CALL iotplane_make_tenant_table('device_groups');

-- Static membership, owned by the same projection (so one rebuild covers both;
-- no foreign key, since a rebuild swaps the tables one by one).
CREATE TABLE device_group_members (
  org_id uuid NOT NULL,
  group_id uuid NOT NULL,
  device_id uuid NOT NULL,
  added_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, group_id, device_id)
);
CREATE INDEX device_group_members_device_idx ON device_group_members (org_id, device_id);
CALL iotplane_make_tenant_table('device_group_members');
