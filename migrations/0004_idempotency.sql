-- Idempotency-Key records (Stripe semantics), per organization. Written by
-- the API through the trusted role with an explicit org_id; RLS as everywhere.
CREATE TABLE idempotency_keys (
  org_id uuid NOT NULL,
  principal text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  state text NOT NULL CHECK (state IN ('in_progress', 'done')),
  status integer,
  headers jsonb,
  body jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, principal, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
CALL iotplane_make_tenant_table('idempotency_keys');
