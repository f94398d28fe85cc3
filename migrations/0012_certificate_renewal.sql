-- Certificate renewal over MQTT (docs/mqtt.md). A renewal certificate lists
-- the serials it replaces; they are revoked (SUPERSEDED) once it is first
-- used to connect or when the grace period after its issue ends. The
-- worker's sweep finds both cases here, so a missed live reaction is caught.
ALTER TABLE device_certificates ADD COLUMN replaces text[];
ALTER TABLE device_certificates ADD COLUMN first_used_at timestamptz;
CREATE INDEX device_certificates_renewals_idx ON device_certificates (not_after) WHERE replaces IS NOT NULL;
