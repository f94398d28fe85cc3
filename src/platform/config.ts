import path from 'node:path';
import { parseCidr } from './outbound/address-policy';

/**
 * The one typed, frozen configuration object. Only composition roots call
 * `loadConfig`; everything else receives the parts it needs.
 */
export interface Config {
  readonly port: number;
  readonly dataDir: string;
  readonly publicUrl: string;
  /** Unset: the embedded Postgres under `dataDir/postgres`. */
  readonly databaseUrl: string | undefined;
  /** Unset: the Postgres event store in the same database. */
  readonly eventStoreUrl: string | undefined;
  /** Unset: the embedded MQTT broker. */
  readonly mqttUrl: string | undefined;
  readonly mqttPort: number;
  /** The broker URL handed to devices at provisioning (default `mqtts://<PUBLIC_URL host>:<MQTT_PORT>`). */
  readonly mqttPublicUrl: string;
  /** Mosquitto's `crlfile` and `pid_file`: set, the worker role keeps the CRL current (docs/brokers.md). */
  readonly mosquittoCrl: { readonly crlFile: string; readonly pidFile: string; readonly brokerUrl: string } | undefined;
  /** Operator-supplied device CA (PEM contents); unset: one generated under `dataDir/pki`. */
  readonly deviceCa: { readonly certPem: string; readonly keyPem: string } | undefined;
  readonly deviceCertValidityDays: number;
  /** How long a certificate replaced by a renewal stays valid when the new one is not used (docs/mqtt.md). */
  readonly certRenewalGraceSeconds: number;
  readonly logLevel: string;
  readonly readYourWritesTimeoutMs: number;
  readonly jwt: {
    readonly secret: string | undefined;
    readonly publicKey: string | undefined;
    readonly issuer: string | undefined;
    readonly audience: string | undefined;
  };
  readonly openApiEnabled: boolean;
  readonly rateLimits: { readonly perPrincipal: number; readonly perOrganization: number };
  /** The readings pipeline (docs/readings.md). */
  readonly ingest: {
    /** Rows per transaction, and the longest a row waits for its batch. */
    readonly batchRows: number;
    readonly flushMs: number;
    /** Transactions in flight at once. */
    readonly writers: number;
    /** Rows held in memory above which the MQTT subscription pauses and the HTTP door waits. */
    readonly maxBufferedRows: number;
    /** MQTT connections per ingest process in the shared subscription. */
    readonly connections: number;
    /** Internal client name; processes running side by side need distinct names. */
    readonly name: string;
    readonly maxFutureSeconds: number;
    /** Oldest timestamp accepted over MQTT, and through the HTTP batch door and releases (back-fill). */
    readonly maxAgeHours: number;
    readonly backfillDays: number;
    /** A hole in a device's sequence numbers older than this is closed and reported as a gap. */
    readonly gapTimeoutSeconds: number;
  };
  /** Notification channels and their delivery (docs/notifications.md). */
  readonly notify: NotifyConfig;
  /** Set: a process without the API (ingest, worker) serves /metrics on this port. */
  readonly metricsPort: number | undefined;
  /** Days readings are kept for an organization that sets no retention of its own. */
  readonly readingsRetentionDays: number;
  /** Daily readings partitions the worker keeps created ahead of today. */
  readonly partitionsAheadDays: number;
  /** statement_timeout of the readings queries (GET /readings…); past it they answer 503 QUERY_TIMEOUT. */
  readonly readingsQueryTimeoutMs: number;
  /** Pause between the command dispatcher's rounds over the read model (docs/commands.md). */
  readonly commandsPollMs: number;
  /** GET /v1/events/stream (docs/events.md): comment heartbeat, and the fallback poll when no checkpoint notification arrives. */
  readonly eventsStream: { readonly heartbeatMs: number; readonly pollMs: number };
  /** Where files (export archives) are kept (docs/exports.md). */
  readonly blobStore: BlobStoreConfig;
  /** Data export jobs (docs/exports.md). */
  readonly exports: ExportsConfig;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use one of ${protocols.join(', ')}, got ${parsed.protocol}`);
  }
  return raw;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function text(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

/** Both PEMs or neither; a literal `\\n` (as env files often carry PEMs) reads as a newline. */
function deviceCaPems(env: Env): Config['deviceCa'] {
  const [certPem, keyPem] = (['DEVICE_CA_CERT', 'DEVICE_CA_KEY'] as const).map((name) => {
    const pem = text(env, name)?.replace(/\\n/g, '\n');
    if (pem !== undefined && !pem.includes('-----BEGIN ')) throw new ConfigError(name, 'must hold PEM contents (-----BEGIN …), not a path');
    return pem;
  });
  if (certPem === undefined && keyPem === undefined) return undefined;
  if (certPem === undefined) throw new ConfigError('DEVICE_CA_CERT', 'is required when DEVICE_CA_KEY is set');
  if (keyPem === undefined) throw new ConfigError('DEVICE_CA_KEY', 'is required when DEVICE_CA_CERT is set');
  return { certPem, keyPem };
}

/** Both or neither: a CRL written without a broker to reload, or the reverse, would never take effect. */
function mosquittoCrl(env: Env, mqttUrl: string | undefined): Config['mosquittoCrl'] {
  const crlFile = text(env, 'MOSQUITTO_CRL_FILE');
  const pidFile = text(env, 'MOSQUITTO_PID_FILE');
  if (crlFile === undefined && pidFile === undefined) return undefined;
  if (crlFile === undefined) throw new ConfigError('MOSQUITTO_CRL_FILE', 'is required when MOSQUITTO_PID_FILE is set');
  if (pidFile === undefined) throw new ConfigError('MOSQUITTO_PID_FILE', 'is required when MOSQUITTO_CRL_FILE is set');
  // The embedded broker checks revocations itself; the publisher also cuts sessions through MQTT_URL.
  if (mqttUrl === undefined) throw new ConfigError('MOSQUITTO_CRL_FILE', 'requires MQTT_URL (the Mosquitto broker)');
  return { crlFile: path.resolve(crlFile), pidFile: path.resolve(pidFile), brokerUrl: mqttUrl };
}

/** A name for the platform's internal MQTT identities (`iotplane:<name>-<k>`, listed in Mosquitto's ACL). */
function internalName(env: Env, name: string, fallback: string): string {
  const value = text(env, name) ?? fallback;
  if (!/^[a-z][a-z0-9-]{0,40}$/.test(value)) throw new ConfigError(name, `must be lowercase letters, digits and "-", got "${value}"`);
  return value;
}

export interface NotifyConfig {
  /** Attempts of one delivery before it is marked DEAD. */
  readonly maxAttempts: number;
  /** Wait before the second attempt; doubles per attempt up to `backoffMaxMs`. */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Bound of one HTTP exchange (connect, send, answer). */
  readonly timeoutMs: number;
  /** Networks (CIDR) that webhooks may reach although private, loopback or link-local. */
  readonly allowedNetworks: readonly string[];
  /** Accept http:// channel URLs (else https:// only). */
  readonly allowHttp: boolean;
  /** Pause of the delivery loop when nothing is due. */
  readonly pollMs: number;
  /** Unset: EMAIL channels cannot be created. */
  readonly smtp: { readonly url: string; readonly from: string } | undefined;
}

function cidrList(env: Env, name: string): string[] {
  const raw = text(env, name);
  if (raw === undefined) return [];
  return raw.split(',').map((part) => {
    const cidr = part.trim();
    if (!parseCidr(cidr)) throw new ConfigError(name, `must be comma-separated CIDR networks (e.g. 127.0.0.0/8,::1/128), got "${cidr}"`);
    return cidr;
  });
}

function notifyConfig(env: Env, publicUrl: string): NotifyConfig {
  const backoffBaseMs = integer(env, 'NOTIFY_BACKOFF_BASE_MS', 1000, 1, 3_600_000);
  const backoffMaxMs = integer(env, 'NOTIFY_BACKOFF_MAX_MS', 3_600_000, 1, 86_400_000);
  if (backoffMaxMs < backoffBaseMs) throw new ConfigError('NOTIFY_BACKOFF_MAX_MS', `must be at least NOTIFY_BACKOFF_BASE_MS (${backoffBaseMs})`);
  const smtpUrl = url(env, 'SMTP_URL', ['smtp:', 'smtps:']);
  const from = text(env, 'SMTP_FROM');
  if (from !== undefined && smtpUrl === undefined) throw new ConfigError('SMTP_FROM', 'needs SMTP_URL');
  if (from !== undefined && !/^[^\s@<>]+@[^\s@<>]+$/.test(from)) throw new ConfigError('SMTP_FROM', `must be an email address, got "${from}"`);
  return {
    maxAttempts: integer(env, 'NOTIFY_MAX_ATTEMPTS', 8, 1, 100),
    backoffBaseMs,
    backoffMaxMs,
    timeoutMs: integer(env, 'NOTIFY_TIMEOUT_MS', 10_000, 100, 120_000),
    allowedNetworks: cidrList(env, 'NOTIFY_ALLOWED_NETWORKS'),
    allowHttp: boolean(env, 'NOTIFY_ALLOW_HTTP', false),
    pollMs: integer(env, 'NOTIFY_POLL_MS', 1000, 10, 60_000),
    smtp: smtpUrl === undefined ? undefined : { url: smtpUrl, from: from ?? `iotplane@${new URL(publicUrl).hostname}` },
  };
}

/** The data folder's `blobs/` (default), or an S3-compatible bucket. */
export type BlobStoreConfig =
  | { readonly kind: 'local'; readonly root: string }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      readonly region: string;
      /** Unset: AWS itself. */
      readonly endpoint: string | undefined;
      readonly forcePathStyle: boolean;
      /** Unset: the AWS SDK's default credential chain. */
      readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
    };

function blobStoreConfig(env: Env, dataDir: string): BlobStoreConfig {
  const kind = text(env, 'BLOB_STORE') ?? 'local';
  if (kind === 'local') return { kind, root: path.join(dataDir, 'blobs') };
  if (kind !== 's3') throw new ConfigError('BLOB_STORE', `must be local or s3, got "${kind}"`);
  const bucket = text(env, 'S3_BUCKET');
  if (bucket === undefined) throw new ConfigError('S3_BUCKET', 'is required when BLOB_STORE=s3');
  const accessKeyId = text(env, 'S3_ACCESS_KEY_ID');
  const secretAccessKey = text(env, 'S3_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError(accessKeyId === undefined ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY', 'is required with the other S3 key variable');
  }
  return {
    kind,
    bucket,
    region: text(env, 'S3_REGION') ?? 'us-east-1',
    endpoint: url(env, 'S3_ENDPOINT', ['http:', 'https:']),
    forcePathStyle: boolean(env, 'S3_FORCE_PATH_STYLE', false),
    credentials: accessKeyId !== undefined && secretAccessKey !== undefined ? { accessKeyId, secretAccessKey } : undefined,
  };
}

export interface ExportsConfig {
  /** Longest `to - from` accepted. */
  readonly maxRangeDays: number;
  /** A finished export's file is kept this long (expiresAt = completedAt + this). */
  readonly retentionHours: number;
  /** Life of each downloadUrl handed out (never past expiresAt). */
  readonly urlTtlSeconds: number;
  /** HMAC key of the API's own download URLs; unset: generated once and kept in the data folder. */
  readonly signingKey: string | undefined;
  /** Exports one worker process runs at once. */
  readonly concurrency: number;
  /** A worker that has not renewed its lease for this long is presumed dead and its export is retried. */
  readonly leaseSeconds: number;
  /** Lease renewal, progress report and cancellation check. */
  readonly heartbeatMs: number;
  /** Attempts (a worker died) before the export is FAILED. */
  readonly maxAttempts: number;
  /** The workers' poll for jobs when no notification wakes them. */
  readonly pollMs: number;
  /** Deflate level of the zip entries (0: stored, 1 fastest … 9 smallest). */
  readonly compressionLevel: number;
}

function exportsConfig(env: Env): ExportsConfig {
  const signingKey = text(env, 'EXPORT_SIGNING_KEY');
  if (signingKey !== undefined && signingKey.length < 32) throw new ConfigError('EXPORT_SIGNING_KEY', 'must be at least 32 characters');
  const leaseSeconds = integer(env, 'EXPORT_LEASE_SECONDS', 60, 1, 3600);
  const heartbeatMs = integer(env, 'EXPORT_HEARTBEAT_MS', 5000, 50, 600_000);
  if (heartbeatMs * 2 > leaseSeconds * 1000) throw new ConfigError('EXPORT_HEARTBEAT_MS', `must be at most half of EXPORT_LEASE_SECONDS (${leaseSeconds} s)`);
  return {
    maxRangeDays: integer(env, 'EXPORT_MAX_RANGE_DAYS', 366, 1, 3660),
    retentionHours: integer(env, 'EXPORT_RETENTION_HOURS', 24, 1, 8760),
    urlTtlSeconds: integer(env, 'EXPORT_URL_TTL_SECONDS', 900, 1, 604_800),
    signingKey,
    concurrency: integer(env, 'EXPORT_WORKER_CONCURRENCY', 2, 1, 16),
    leaseSeconds,
    heartbeatMs,
    maxAttempts: integer(env, 'EXPORT_MAX_ATTEMPTS', 3, 1, 10),
    pollMs: integer(env, 'EXPORT_POLL_MS', 2000, 10, 60_000),
    compressionLevel: integer(env, 'EXPORT_COMPRESSION_LEVEL', 1, 0, 9),
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const jwtSecret = text(env, 'JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 characters');
  }
  const publicUrl = (url(env, 'PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`).replace(/\/$/, '');
  const mqttPort = integer(env, 'MQTT_PORT', 8883, 0, 65535);
  const mqttUrl = url(env, 'MQTT_URL', ['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:']);
  const config: Config = {
    port,
    dataDir: path.resolve(env.DATA_DIR ?? './.data'),
    publicUrl,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    eventStoreUrl: url(env, 'EVENTSTORE_URL', ['esdb:', 'esdb+discover:']),
    mqttUrl,
    mqttPort,
    mqttPublicUrl: url(env, 'MQTT_PUBLIC_URL', ['mqtt:', 'mqtts:', 'ws:', 'wss:']) ?? `mqtts://${new URL(publicUrl).hostname}:${mqttPort}`,
    mosquittoCrl: mosquittoCrl(env, mqttUrl),
    deviceCa: deviceCaPems(env),
    deviceCertValidityDays: integer(env, 'DEVICE_CERT_VALIDITY_DAYS', 90, 1, 825),
    certRenewalGraceSeconds: integer(env, 'CERT_RENEWAL_GRACE_SECONDS', 7 * 86_400, 0, 90 * 86_400),
    logLevel,
    readYourWritesTimeoutMs: integer(env, 'READ_YOUR_WRITES_TIMEOUT_MS', 5000, 0, 60000),
    jwt: {
      secret: jwtSecret,
      publicKey: text(env, 'JWT_PUBLIC_KEY'),
      issuer: text(env, 'JWT_ISSUER'),
      audience: text(env, 'JWT_AUDIENCE'),
    },
    openApiEnabled: boolean(env, 'OPENAPI_ENABLED', true),
    rateLimits: {
      perPrincipal: integer(env, 'RATE_LIMIT_PER_KEY', 1200, 1, 10_000_000),
      perOrganization: integer(env, 'RATE_LIMIT_PER_ORG', 6000, 1, 10_000_000),
    },
    readingsRetentionDays: integer(env, 'READINGS_RETENTION_DAYS', 395, 1, 3650),
    ingest: {
      batchRows: integer(env, 'INGEST_BATCH_ROWS', 10_000, 1, 100_000),
      flushMs: integer(env, 'INGEST_FLUSH_MS', 50, 1, 10_000),
      writers: integer(env, 'INGEST_WRITERS', 2, 1, 16),
      maxBufferedRows: integer(env, 'INGEST_MAX_BUFFERED_ROWS', 100_000, 1000, 10_000_000),
      connections: integer(env, 'INGEST_CONNECTIONS', 2, 1, 16),
      name: internalName(env, 'INGEST_NAME', 'ingest'),
      maxFutureSeconds: integer(env, 'READINGS_MAX_FUTURE_SECONDS', 300, 0, 86_400),
      maxAgeHours: integer(env, 'READINGS_MAX_AGE_HOURS', 168, 1, 87_600),
      backfillDays: integer(env, 'READINGS_BACKFILL_DAYS', 365, 1, 3650),
      gapTimeoutSeconds: integer(env, 'INGEST_GAP_TIMEOUT_SECONDS', 300, 1, 86_400),
    },
    notify: notifyConfig(env, publicUrl),
    metricsPort: text(env, 'METRICS_PORT') === undefined ? undefined : integer(env, 'METRICS_PORT', 0, 1, 65535),
    partitionsAheadDays: integer(env, 'PARTITIONS_AHEAD_DAYS', 7, 1, 366),
    readingsQueryTimeoutMs: integer(env, 'READINGS_QUERY_TIMEOUT_MS', 15_000, 1, 600_000),
    commandsPollMs: integer(env, 'COMMANDS_POLL_MS', 1000, 10, 60_000),
    eventsStream: {
      heartbeatMs: integer(env, 'EVENTS_STREAM_HEARTBEAT_MS', 15_000, 50, 300_000),
      pollMs: integer(env, 'EVENTS_STREAM_POLL_MS', 5000, 50, 60_000),
    },
    blobStore: blobStoreConfig(env, path.resolve(env.DATA_DIR ?? './.data')),
    exports: exportsConfig(env),
  };
  return deepFreeze(config);
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) {
    if (inner !== null && typeof inner === 'object') deepFreeze(inner as object);
  }
  return Object.freeze(value);
}
