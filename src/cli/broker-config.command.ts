import { isIP } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../platform/config';
import { readRevocations } from '../platform/mqtt/crl-revocations';
import { writeMosquittoFiles } from '../platform/mqtt/mosquitto-files';
import { loadOrCreateDeviceCa } from '../platform/pki/device-ca';
import { withPlatform } from './cli-platform';
import { UsageError } from './create-org.command';

const USAGE =
  'admin broker-config --out <dir> [--port 8883] [--host <public hostname>] [--bind <address>] ' +
  '[--internal ingest-1,ingest-2,renewal,health,commands,platform] [--run-as <user>]';
const DEFAULT_INTERNAL = 'ingest-1,ingest-2,renewal,health,commands,platform';
const ACCOUNT = /^[a-z_][a-z0-9_-]{0,31}$/i;

/**
 * `admin broker-config`: the files a production Mosquitto runs from
 * (docs/brokers.md): mosquitto.conf, the ACL, the device CA, a server
 * certificate, the CRL from the event log, and client certificates for the
 * platform's internal identities. Parses its own options, which no other
 * command shares.
 */
export async function brokerConfigCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      bind: { type: 'string' },
      internal: { type: 'string' },
      'run-as': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(`usage: npm run cli -- ${USAGE}\n`);
  const config = loadConfig();
  const port = Number(values.port ?? config.mqttPort);
  const runAs = values['run-as'];
  if (!values.out || !Number.isInteger(port) || port < 1 || port > 65535 || (runAs !== undefined && !ACCOUNT.test(runAs))) throw new UsageError(USAGE);
  // Devices are handed MQTT_PUBLIC_URL at provisioning, so by default the certificate names its host.
  const host = values.host ?? new URL(config.mqttPublicUrl).hostname.replace(/^\[|\]$/g, '');
  const internalNames = (values.internal ?? DEFAULT_INTERNAL).split(',').map((name) => name.trim()).filter(Boolean);

  // Platform first: creating the CA first would make DATA_DIR 0700, which the embedded Postgres's own account cannot enter.
  const { records } = await withPlatform((platform) => readRevocations(platform.store));
  const ca = await loadOrCreateDeviceCa({ dataDir: config.dataDir, certPem: config.deviceCa?.certPem, keyPem: config.deviceCa?.keyPem });
  const written = await writeMosquittoFiles({
    outDir: values.out,
    ca,
    port,
    bind: values.bind,
    serverNames: isIP(host) === 0 ? { hostnames: [host], ips: [] } : { hostnames: [], ips: [host] },
    internalNames,
    revoked: records,
    runAsUser: runAs,
  });
  const dir = path.dirname(written.paths.aclFile);
  const out = (line = ''): boolean => process.stdout.write(`${line}\n`);
  out(`wrote ${dir}:`);
  for (const file of written.files) out(`  ${path.basename(file.path).padEnd(28)} ${file.mode.toString(8).padStart(4, '0')}  ${file.what}`);
  out(`  ${'data/'.padEnd(28)} 0700  persistence and pid file (must be writable by the broker)`);
  out();
  out(`start:    mosquitto -c ${path.join(dir, 'mosquitto.conf')}`);
  if (process.getuid?.() === 0 && runAs === undefined) {
    out(`          (started as root, Mosquitto switches to the "mosquitto" account first: chown -R mosquitto: ${dir}, or regenerate with --run-as)`);
  }
  out(`platform: MQTT_URL=mqtts://${host.includes(':') ? `[${host}]` : host}:${port} (internal identities: ${internalNames.join(', ')})`);
  out(`check:    mosquitto_pub -h ${host} -p ${port} --cafile ${written.paths.cafile} --cert <device>.crt --key <device>.key -t devices/<deviceId>/readings -m '{}' -q 1`);
  out(`CRL:      valid until ${written.crlNextUpdate.toISOString()}; after that Mosquitto refuses every client. Run the CRL publisher or this command again before then.`);
}
