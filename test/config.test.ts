import path from 'node:path';
import { ConfigError, loadConfig } from '../src/platform/config';

function failure(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('fills every default from an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      dataDir: path.resolve('./.data'),
      publicUrl: 'http://localhost:8080',
      databaseUrl: undefined,
      eventStoreUrl: undefined,
      mqttUrl: undefined,
      mqttPort: 8883,
      mqttPublicUrl: 'mqtts://localhost:8883',
      mosquittoCrl: undefined,
      deviceCa: undefined,
      deviceCertValidityDays: 90,
      certRenewalGraceSeconds: 604_800,
      logLevel: 'info',
      readYourWritesTimeoutMs: 5000,
      jwt: { secret: undefined, publicKey: undefined, issuer: undefined, audience: undefined },
      openApiEnabled: true,
      rateLimits: { perPrincipal: 1200, perOrganization: 6000 },
      readingsRetentionDays: 395,
      partitionsAheadDays: 7,
      readingsQueryTimeoutMs: 15_000,
      commandsPollMs: 1000,
      eventsStream: { heartbeatMs: 15_000, pollMs: 5000 },
      ingest: {
        batchRows: 10_000,
        flushMs: 50,
        writers: 2,
        maxBufferedRows: 100_000,
        connections: 2,
        name: 'ingest',
        maxFutureSeconds: 300,
        maxAgeHours: 168,
        backfillDays: 365,
        gapTimeoutSeconds: 300,
      },
      notify: {
        maxAttempts: 8,
        backoffBaseMs: 1000,
        backoffMaxMs: 3_600_000,
        timeoutMs: 10_000,
        allowedNetworks: [],
        allowHttp: false,
        pollMs: 1000,
        smtp: undefined,
      },
      metricsPort: undefined,
      blobStore: { kind: 'local', root: path.resolve('./.data/blobs') },
      exports: {
        maxRangeDays: 366,
        retentionHours: 24,
        urlTtlSeconds: 900,
        signingKey: undefined,
        concurrency: 2,
        leaseSeconds: 60,
        heartbeatMs: 5000,
        maxAttempts: 3,
        pollMs: 2000,
        compressionLevel: 1,
      },
    });
  });

  it('reads every variable it knows', () => {
    const config = loadConfig({
      PORT: '9090',
      DATA_DIR: '/var/lib/iotplane',
      PUBLIC_URL: 'https://iot.example.com/',
      DATABASE_URL: 'postgres://u:p@db:5432/iot',
      EVENTSTORE_URL: 'esdb://es:2113?tls=false',
      MQTT_URL: 'mqtts://broker:8883',
      MQTT_PORT: '1883',
      LOG_LEVEL: 'debug',
      READ_YOUR_WRITES_TIMEOUT_MS: '0',
      JWT_SECRET: 's'.repeat(32),
      JWT_ISSUER: 'https://idp.example.com',
      JWT_AUDIENCE: 'iotplane',
      OPENAPI_ENABLED: 'false',
      RATE_LIMIT_PER_KEY: '10',
      RATE_LIMIT_PER_ORG: '20',
      READINGS_QUERY_TIMEOUT_MS: '2500',
    });
    expect(config).toMatchObject({
      port: 9090,
      dataDir: '/var/lib/iotplane',
      publicUrl: 'https://iot.example.com',
      databaseUrl: 'postgres://u:p@db:5432/iot',
      eventStoreUrl: 'esdb://es:2113?tls=false',
      mqttUrl: 'mqtts://broker:8883',
      mqttPort: 1883,
      logLevel: 'debug',
      readYourWritesTimeoutMs: 0,
      jwt: { secret: 's'.repeat(32), issuer: 'https://idp.example.com', audience: 'iotplane' },
      openApiEnabled: false,
      rateLimits: { perPrincipal: 10, perOrganization: 20 },
      readingsQueryTimeoutMs: 2500,
    });
  });

  it('derives the public URL from the port when none is given', () => {
    expect(loadConfig({ PORT: '3000' }).publicUrl).toBe('http://localhost:3000');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'not-a-url'],
    ['DATABASE_URL', 'mysql://db/iot'],
    ['PUBLIC_URL', 'ftp://files.example.com'],
    ['EVENTSTORE_URL', 'http://es:2113'],
    ['MQTT_URL', 'broker:1883'],
    ['MQTT_PORT', '70000'],
    ['OPENAPI_ENABLED', 'maybe'],
    ['LOG_LEVEL', 'loud'],
    ['JWT_SECRET', 'short-secret'],
    ['READ_YOUR_WRITES_TIMEOUT_MS', '600000'],
    ['RATE_LIMIT_PER_KEY', '0'],
    ['RATE_LIMIT_PER_ORG', 'lots'],
    ['READINGS_QUERY_TIMEOUT_MS', '0'],
  ])('stops on %s=%s with a ConfigError naming the variable', (variable, value) => {
    const error = failure({ [variable]: value });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
  });

  it('names the invalid variable even when other variables are valid', () => {
    const error = failure({ PORT: '8080', DATABASE_URL: 'postgres://db/iot', MQTT_PORT: '99999', LOG_LEVEL: 'warn' });
    expect(error.variable).toBe('MQTT_PORT');
  });

  it('accepts a JWT secret of exactly 32 characters', () => {
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(32) }).jwt.secret).toHaveLength(32);
    expect(failure({ JWT_SECRET: 'x'.repeat(31) }).variable).toBe('JWT_SECRET');
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.jwt)).toBe(true);
    expect(Object.isFrozen(config.rateLimits)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.rateLimits as { perPrincipal: number }).perPrincipal = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(8080);
  });

  it('reads process.env when given nothing', () => {
    const saved = process.env.PORT;
    process.env.PORT = '7070';
    try {
      expect(loadConfig().port).toBe(7070);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });
});

describe('loadConfig: provisioning variables', () => {
  const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

  it('derives the MQTT URL handed to devices from PUBLIC_URL’s host and MQTT_PORT unless MQTT_PUBLIC_URL is set', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://iot.example.com:8443/', MQTT_PORT: '8884' }).mqttPublicUrl).toBe('mqtts://iot.example.com:8884');
    expect(loadConfig({ PUBLIC_URL: 'http://[::1]:8080' }).mqttPublicUrl).toBe('mqtts://[::1]:8883');
    expect(loadConfig({ MQTT_PUBLIC_URL: 'mqtts://broker.example.com:443' }).mqttPublicUrl).toBe('mqtts://broker.example.com:443');
  });

  it('takes DEVICE_CA_CERT and DEVICE_CA_KEY together, with escaped newlines read as newlines', () => {
    const escaped = PEM.replace(/\n/g, '\\n');
    expect(loadConfig({ DEVICE_CA_CERT: escaped, DEVICE_CA_KEY: PEM }).deviceCa).toEqual({ certPem: PEM, keyPem: PEM });
    expect(failure({ DEVICE_CA_CERT: PEM }).variable).toBe('DEVICE_CA_KEY');
    expect(failure({ DEVICE_CA_KEY: PEM }).variable).toBe('DEVICE_CA_CERT');
    expect(failure({ DEVICE_CA_CERT: '/etc/ca.pem', DEVICE_CA_KEY: PEM }).variable).toBe('DEVICE_CA_CERT');
  });

  it.each([
    ['DEVICE_CERT_VALIDITY_DAYS', '0'],
    ['DEVICE_CERT_VALIDITY_DAYS', '826'],
    ['MQTT_PUBLIC_URL', 'http://broker.example.com'],
    ['CERT_RENEWAL_GRACE_SECONDS', '7776001'],
  ])('stops on %s=%s with a ConfigError naming it', (variable, value) => {
    expect(failure({ [variable]: value }).variable).toBe(variable);
  });

  it('reads DEVICE_CERT_VALIDITY_DAYS', () => {
    expect(loadConfig({ DEVICE_CERT_VALIDITY_DAYS: '30' }).deviceCertValidityDays).toBe(30);
  });

  it('reads CERT_RENEWAL_GRACE_SECONDS', () => {
    expect(loadConfig({ CERT_RENEWAL_GRACE_SECONDS: '3600' }).certRenewalGraceSeconds).toBe(3600);
  });
});

describe('loadConfig: Mosquitto CRL publisher variables', () => {
  const broker = { MQTT_URL: 'mqtts://broker:8883' };

  it('takes MOSQUITTO_CRL_FILE and MOSQUITTO_PID_FILE together, resolved, with MQTT_URL for the session kick', () => {
    const config = loadConfig({ ...broker, MOSQUITTO_CRL_FILE: 'broker/crl.pem', MOSQUITTO_PID_FILE: '/run/mosquitto/mosquitto.pid' });
    expect(config.mosquittoCrl).toEqual({ crlFile: path.resolve('broker/crl.pem'), pidFile: '/run/mosquitto/mosquitto.pid', brokerUrl: 'mqtts://broker:8883' });
  });

  it('stops with a ConfigError naming the missing half', () => {
    expect(failure({ ...broker, MOSQUITTO_CRL_FILE: '/etc/mosquitto/crl.pem' }).variable).toBe('MOSQUITTO_PID_FILE');
    expect(failure({ ...broker, MOSQUITTO_PID_FILE: '/run/mosquitto.pid' }).variable).toBe('MOSQUITTO_CRL_FILE');
  });

  it('refuses them without MQTT_URL: the embedded broker checks revocations itself', () => {
    const error = failure({ MOSQUITTO_CRL_FILE: '/etc/mosquitto/crl.pem', MOSQUITTO_PID_FILE: '/run/mosquitto.pid' });
    expect(error.variable).toBe('MOSQUITTO_CRL_FILE');
    expect(error.message).toMatch(/MQTT_URL/);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ MOSQUITTO_CRL_FILE: '', MOSQUITTO_PID_FILE: '' }).mosquittoCrl).toBeUndefined();
  });
});

describe('loadConfig: readings storage variables', () => {
  it('reads READINGS_RETENTION_DAYS and PARTITIONS_AHEAD_DAYS', () => {
    expect(loadConfig({ READINGS_RETENTION_DAYS: '30', PARTITIONS_AHEAD_DAYS: '14' })).toMatchObject({ readingsRetentionDays: 30, partitionsAheadDays: 14 });
    expect(loadConfig({ READINGS_RETENTION_DAYS: '3650' }).readingsRetentionDays).toBe(3650);
  });

  it.each([
    ['READINGS_RETENTION_DAYS', '0'],
    ['READINGS_RETENTION_DAYS', '3651'],
    ['READINGS_RETENTION_DAYS', '1.5'],
    ['PARTITIONS_AHEAD_DAYS', '0'],
    ['PARTITIONS_AHEAD_DAYS', 'week'],
  ])('stops on %s=%s with a ConfigError naming it', (variable, value) => {
    expect(failure({ [variable]: value }).variable).toBe(variable);
  });
});

describe('loadConfig: readings ingest variables', () => {
  it('reads the pipeline and window variables', () => {
    const config = loadConfig({
      INGEST_BATCH_ROWS: '1000',
      INGEST_FLUSH_MS: '20',
      INGEST_WRITERS: '4',
      INGEST_MAX_BUFFERED_ROWS: '5000',
      INGEST_CONNECTIONS: '3',
      INGEST_NAME: 'ingest-b',
      READINGS_MAX_FUTURE_SECONDS: '60',
      READINGS_MAX_AGE_HOURS: '24',
      READINGS_BACKFILL_DAYS: '30',
      INGEST_GAP_TIMEOUT_SECONDS: '120',
      METRICS_PORT: '9464',
    });
    expect(config.ingest).toEqual({
      batchRows: 1000,
      flushMs: 20,
      writers: 4,
      maxBufferedRows: 5000,
      connections: 3,
      name: 'ingest-b',
      maxFutureSeconds: 60,
      maxAgeHours: 24,
      backfillDays: 30,
      gapTimeoutSeconds: 120,
    });
    expect(config.metricsPort).toBe(9464);
  });

  it.each([
    ['INGEST_NAME', 'Ingest_1'],
    ['INGEST_WRITERS', '0'],
    ['INGEST_MAX_BUFFERED_ROWS', '10'],
    ['METRICS_PORT', '0'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^${name}:`));
  });
});

describe('loadConfig: command dispatcher variables', () => {
  it('reads COMMANDS_POLL_MS', () => {
    expect(loadConfig({ COMMANDS_POLL_MS: '250' }).commandsPollMs).toBe(250);
    expect(loadConfig({ COMMANDS_POLL_MS: '10' }).commandsPollMs).toBe(10);
  });

  it.each([
    ['COMMANDS_POLL_MS', '9'],
    ['COMMANDS_POLL_MS', '60001'],
    ['COMMANDS_POLL_MS', 'often'],
  ])('stops on %s=%s with a ConfigError naming it', (variable, value) => {
    expect(failure({ [variable]: value }).variable).toBe(variable);
  });
});

describe('loadConfig: activity stream variables', () => {
  it('reads EVENTS_STREAM_HEARTBEAT_MS and EVENTS_STREAM_POLL_MS', () => {
    expect(loadConfig({ EVENTS_STREAM_HEARTBEAT_MS: '200', EVENTS_STREAM_POLL_MS: '50' }).eventsStream).toEqual({ heartbeatMs: 200, pollMs: 50 });
  });

  it.each([
    ['EVENTS_STREAM_HEARTBEAT_MS', '49'],
    ['EVENTS_STREAM_HEARTBEAT_MS', '300001'],
    ['EVENTS_STREAM_POLL_MS', '49'],
    ['EVENTS_STREAM_POLL_MS', 'soon'],
  ])('stops on %s=%s with a ConfigError naming it', (variable, value) => {
    expect(failure({ [variable]: value }).variable).toBe(variable);
  });
});

describe('loadConfig: notification variables', () => {
  it('reads the delivery, SSRF and SMTP variables', () => {
    const config = loadConfig({
      PUBLIC_URL: 'https://iot.example.com',
      NOTIFY_MAX_ATTEMPTS: '3',
      NOTIFY_BACKOFF_BASE_MS: '10',
      NOTIFY_BACKOFF_MAX_MS: '40',
      NOTIFY_TIMEOUT_MS: '2000',
      NOTIFY_ALLOWED_NETWORKS: '127.0.0.0/8, ::1/128,10.20.0.0/16',
      NOTIFY_ALLOW_HTTP: 'true',
      NOTIFY_POLL_MS: '50',
      SMTP_URL: 'smtps://user:pass@smtp.example.com:465',
    });
    expect(config.notify).toEqual({
      maxAttempts: 3,
      backoffBaseMs: 10,
      backoffMaxMs: 40,
      timeoutMs: 2000,
      allowedNetworks: ['127.0.0.0/8', '::1/128', '10.20.0.0/16'],
      allowHttp: true,
      pollMs: 50,
      smtp: { url: 'smtps://user:pass@smtp.example.com:465', from: 'iotplane@iot.example.com' },
    });
    expect(loadConfig({ SMTP_URL: 'smtp://mail:25', SMTP_FROM: 'alerts@example.com' }).notify.smtp).toEqual({ url: 'smtp://mail:25', from: 'alerts@example.com' });
  });

  it.each([
    ['NOTIFY_MAX_ATTEMPTS', '0'],
    ['NOTIFY_BACKOFF_BASE_MS', 'soon'],
    ['NOTIFY_TIMEOUT_MS', '50'],
    ['NOTIFY_ALLOWED_NETWORKS', '127.0.0.1'],
    ['NOTIFY_ALLOWED_NETWORKS', '10.0.0.0/33'],
    ['NOTIFY_ALLOWED_NETWORKS', 'localhost/8'],
    ['NOTIFY_ALLOW_HTTP', 'yes'],
    ['SMTP_URL', 'https://mail.example.com'],
    ['SMTP_FROM', 'alerts@example.com'],
  ])('stops on %s=%s with a ConfigError naming it', (variable, value) => {
    expect(failure({ [variable]: value }).variable).toBe(variable);
  });

  it('refuses a backoff cap below the base and a sender that is not an address', () => {
    expect(failure({ NOTIFY_BACKOFF_BASE_MS: '5000', NOTIFY_BACKOFF_MAX_MS: '1000' }).variable).toBe('NOTIFY_BACKOFF_MAX_MS');
    expect(failure({ SMTP_URL: 'smtp://mail:25', SMTP_FROM: 'not an address' }).variable).toBe('SMTP_FROM');
  });
});

describe('loadConfig: blob store and export variables', () => {
  it('keeps blobs in the data folder by default, in an S3-compatible bucket with BLOB_STORE=s3', () => {
    expect(loadConfig({ DATA_DIR: '/var/lib/iotplane' }).blobStore).toEqual({ kind: 'local', root: '/var/lib/iotplane/blobs' });
    expect(
      loadConfig({
        BLOB_STORE: 's3',
        S3_BUCKET: 'exports',
        S3_REGION: 'eu-west-1',
        S3_ENDPOINT: 'http://minio:9000',
        S3_FORCE_PATH_STYLE: 'true',
        S3_ACCESS_KEY_ID: 'key',
        S3_SECRET_ACCESS_KEY: 'secret',
      }).blobStore,
    ).toEqual({ kind: 's3', bucket: 'exports', region: 'eu-west-1', endpoint: 'http://minio:9000', forcePathStyle: true, credentials: { accessKeyId: 'key', secretAccessKey: 'secret' } });
    // Without keys, the AWS SDK's own chain (instance role, environment) applies.
    expect(loadConfig({ BLOB_STORE: 's3', S3_BUCKET: 'exports' }).blobStore).toEqual({
      kind: 's3',
      bucket: 'exports',
      region: 'us-east-1',
      endpoint: undefined,
      forcePathStyle: false,
      credentials: undefined,
    });
  });

  it('reads the export variables', () => {
    const config = loadConfig({
      EXPORT_MAX_RANGE_DAYS: '31',
      EXPORT_RETENTION_HOURS: '48',
      EXPORT_URL_TTL_SECONDS: '60',
      EXPORT_SIGNING_KEY: 'k'.repeat(32),
      EXPORT_WORKER_CONCURRENCY: '4',
      EXPORT_LEASE_SECONDS: '30',
      EXPORT_HEARTBEAT_MS: '15000',
      EXPORT_MAX_ATTEMPTS: '5',
      EXPORT_POLL_MS: '500',
      EXPORT_COMPRESSION_LEVEL: '6',
    });
    expect(config.exports).toEqual({
      maxRangeDays: 31,
      retentionHours: 48,
      urlTtlSeconds: 60,
      signingKey: 'k'.repeat(32),
      concurrency: 4,
      leaseSeconds: 30,
      heartbeatMs: 15_000,
      maxAttempts: 5,
      pollMs: 500,
      compressionLevel: 6,
    });
  });

  it.each([
    ['BLOB_STORE', 'ftp'],
    ['S3_ENDPOINT', 'minio:9000'],
    ['EXPORT_MAX_RANGE_DAYS', '0'],
    ['EXPORT_URL_TTL_SECONDS', '604801'],
    ['EXPORT_SIGNING_KEY', 'too-short'],
    ['EXPORT_COMPRESSION_LEVEL', '10'],
    ['EXPORT_WORKER_CONCURRENCY', '0'],
  ])('stops on %s=%s with a ConfigError naming it', (variable, value) => {
    expect(failure({ BLOB_STORE: 's3', S3_BUCKET: 'b', ...{ [variable]: value } }).variable).toBe(variable);
  });

  it('needs S3_BUCKET for BLOB_STORE=s3, both S3 keys or neither, and a heartbeat within half the lease', () => {
    expect(failure({ BLOB_STORE: 's3' }).variable).toBe('S3_BUCKET');
    expect(failure({ BLOB_STORE: 's3', S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'key' }).variable).toBe('S3_SECRET_ACCESS_KEY');
    expect(failure({ BLOB_STORE: 's3', S3_BUCKET: 'b', S3_SECRET_ACCESS_KEY: 'secret' }).variable).toBe('S3_ACCESS_KEY_ID');
    expect(failure({ EXPORT_LEASE_SECONDS: '10', EXPORT_HEARTBEAT_MS: '6000' }).variable).toBe('EXPORT_HEARTBEAT_MS');
    expect(loadConfig({ EXPORT_LEASE_SECONDS: '10', EXPORT_HEARTBEAT_MS: '5000' }).exports.heartbeatMs).toBe(5000);
  });
});
