-- Registration tokens as the API lists them. The secret hash is not copied
-- here: provisioning checks the token against its own event stream, so no
-- read model holds anything a token could be rebuilt or tested from.
-- EXPIRED is not stored; it is derived from expires_at when read.
CREATE TABLE registration_tokens (
  org_id uuid NOT NULL,
  id uuid NOT NULL,
  device_id uuid NOT NULL,
  device_name text NOT NULL,
  status text NOT NULL CHECK (status IN ('PENDING', 'REDEEMED', 'REVOKED')),
  expires_at timestamptz NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  redeemed_at timestamptz,
  revoked_at timestamptz,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX registration_tokens_status_idx ON registration_tokens (org_id, status, created_at, id);
CREATE INDEX registration_tokens_device_idx ON registration_tokens (org_id, device_id, created_at, id);
CALL iotplane_make_tenant_table('registration_tokens');

-- Certificates issued to devices; ACTIVE / EXPIRED / REVOKED is derived when read.
CREATE TABLE device_certificates (
  org_id uuid NOT NULL,
  device_id uuid NOT NULL,
  serial_number text NOT NULL,
  fingerprint text NOT NULL,
  token_id uuid,
  not_before timestamptz NOT NULL,
  not_after timestamptz NOT NULL,
  issued_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revocation_reason text,
  PRIMARY KEY (org_id, device_id, serial_number)
);
CREATE INDEX device_certificates_issued_idx ON device_certificates (org_id, device_id, issued_at, serial_number);
CALL iotplane_make_tenant_table('device_certificates');
