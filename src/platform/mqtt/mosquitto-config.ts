import { ValidationError } from '../errors';

/**
 * mosquitto.conf for the production broker (docs/brokers.md), rendered from
 * values only: no I/O, so a test can read exactly what an operator gets.
 * Every setting is written with the reason it is there.
 */
export interface MosquittoPaths {
  readonly cafile: string;
  readonly certfile: string;
  readonly keyfile: string;
  readonly crlfile: string;
  readonly aclFile: string;
  /** A folder; Mosquitto writes mosquitto.db into it and needs write access. */
  readonly persistenceLocation: string;
  readonly pidFile: string;
}

export interface MosquittoLimits {
  readonly maxInflightMessages: number;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  /** Whole MQTT packet, headers included. */
  readonly maxPacketBytes: number;
  readonly autosaveIntervalSeconds: number;
  /** Mosquitto's duration syntax: a number and one of h d w m y. */
  readonly persistentClientExpiration: string;
}

export const DEFAULT_MOSQUITTO_LIMITS: MosquittoLimits = {
  maxInflightMessages: 1000,
  maxQueuedMessages: 100_000,
  maxQueuedBytes: 256 * 1024 * 1024,
  maxPacketBytes: 256 * 1024,
  autosaveIntervalSeconds: 60,
  persistentClientExpiration: '7d',
};

export interface MosquittoConfOptions {
  readonly port: number;
  /** Omitted: every interface, IPv4 and IPv6. */
  readonly bind?: string;
  readonly paths: MosquittoPaths;
  /** Written as `user`: the account a root-started Mosquitto switches to before it reads any file. */
  readonly runAsUser?: string;
  readonly limits?: Partial<MosquittoLimits>;
}

type Setting = readonly [name: string, value: string | number | boolean, why: string];

/** Mosquitto reads a value up to the end of the line but splits some on blanks: no blanks, no line breaks. */
const CONF_VALUE = /^[^\s#]+$/;
const DURATION = /^\d+[hdwmy]$/;

export function renderMosquittoConf(options: MosquittoConfOptions): string {
  const limits = { ...DEFAULT_MOSQUITTO_LIMITS, ...options.limits };
  const { paths } = options;
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new ValidationError(`port must be 1-65535, got ${options.port}.`);
  if (!DURATION.test(limits.persistentClientExpiration)) throw new ValidationError('persistentClientExpiration must look like 7d.');
  const general: Setting[] = [
    ...(options.runAsUser === undefined ? [] : [['user', options.runAsUser, 'A root-started broker switches to this account before reading the files below, so it must be able to read them.'] as const]),
    ['per_listener_settings', false, 'One authentication and ACL policy for the whole broker: a listener added later cannot open a hole.'],
    ['allow_anonymous', false, 'Every client proves an identity with a certificate from the device CA.'],
    ['acl_file', paths.aclFile, 'Generated from src/platform/mqtt/topics.ts: devices only under devices/<their CN>/, platform identities everywhere.'],
    ['persistence', true, 'Sessions, subscriptions and queued QoS 1 messages survive a broker restart.'],
    ['persistence_location', paths.persistenceLocation, 'Where mosquitto.db is written; must be writable by the broker account.'],
    ['autosave_interval', limits.autosaveIntervalSeconds, 'Persistence is a snapshot: a crash loses what arrived since the last one (default 1800 s). Devices number their readings so the platform sees such gaps.'],
    ['persistent_client_expiration', limits.persistentClientExpiration, 'A persistent session whose client never returns would keep its queue forever.'],
    ['max_inflight_messages', limits.maxInflightMessages, 'The default 20 unacknowledged QoS 1 messages per client halved ingest throughput.'],
    ['max_queued_messages', limits.maxQueuedMessages, 'The default 1000 queued messages per client is minutes of readings for a slow ingester; past the limit Mosquitto drops silently.'],
    ['max_queued_bytes', limits.maxQueuedBytes, 'Bounds broker memory per slow or offline client; messages past it are dropped silently and show up as sequence gaps.'],
    ['max_packet_size', limits.maxPacketBytes, 'Batched readings are about 8 KB; a far larger packet is a fault or an attack, and its sender is disconnected (message_size_limit, which Mosquitto 2.0 deprecates, would acknowledge and drop it silently).'],
    ['pid_file', paths.pidFile, 'The CRL publisher sends SIGHUP to this pid to make Mosquitto read a new crl.pem.'],
  ];
  const listener: Setting[] = [
    ['cafile', paths.cafile, 'Client certificates must chain to the device CA.'],
    ['certfile', paths.certfile, 'The broker certificate, issued by the device CA for the public host, localhost and 127.0.0.1; reloaded on SIGHUP.'],
    ['keyfile', paths.keyfile, 'Its private key (0600).'],
    ['crlfile', paths.crlfile, 'Revoked certificates; checked at every TLS handshake and re-read on SIGHUP. Past its nextUpdate every client is refused: keep it fresh.'],
    ['require_certificate', true, 'Mutual TLS: no client certificate, no connection.'],
    ['use_identity_as_username', true, 'The username is the certificate CN, so ACL patterns use %u, never the client id a client picks itself.'],
    ['use_username_as_clientid', true, "The client id becomes the CN: a device that claims another device's or the platform's client id cannot take over that session."],
    ['tls_version', 'tlsv1.2', 'Minimum TLS version; TLS 1.3 is also accepted.'],
  ];
  const bind = options.bind === undefined ? '' : ` ${checked('listener', options.bind)}`;
  return [
    '# Generated by `npm run cli -- admin broker-config`; regenerate rather than edit (docs/brokers.md).',
    '',
    ...general.flatMap(line),
    '# Devices and the platform connect here; TLS with client certificates only.',
    `listener ${options.port}${bind}`,
    '',
    ...listener.flatMap(line),
  ].join('\n');
}

function line([name, value, why]: Setting): string[] {
  return [`# ${why}`, `${name} ${checked(name, String(value))}`, ''];
}

function checked(name: string, value: string): string {
  if (!CONF_VALUE.test(value)) throw new ValidationError(`${name}: "${value}" cannot be written to mosquitto.conf (blanks, line breaks or # are not allowed).`);
  return value;
}
