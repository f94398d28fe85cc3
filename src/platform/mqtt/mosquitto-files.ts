import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { issueInternalClientCertificate, issueServerCertificate } from '../pki/certificate-issuer';
import { buildCrl, type RevokedCertificateEntry } from '../pki/crl';
import type { DeviceCa } from '../pki/device-ca';
import { renderMosquittoAcl } from './mosquitto-acl';
import { renderMosquittoConf, type MosquittoLimits, type MosquittoPaths } from './mosquitto-config';
import { replaceFile } from './mosquitto-reload';

export interface MosquittoFilesOptions {
  readonly outDir: string;
  readonly ca: DeviceCa;
  readonly port: number;
  readonly bind?: string;
  /** Names devices reach the broker by, besides localhost and 127.0.0.1. */
  readonly serverNames: { readonly hostnames: readonly string[]; readonly ips: readonly string[] };
  /** One ACL block and one client certificate per name (CN `iotplane:<name>`). */
  readonly internalNames: readonly string[];
  readonly revoked: readonly RevokedCertificateEntry[];
  readonly runAsUser?: string;
  readonly limits?: Partial<MosquittoLimits>;
  readonly crlValidityDays?: number;
  readonly now?: Date;
}

export interface WrittenFile {
  readonly path: string;
  readonly what: string;
  readonly mode: number;
}

export interface MosquittoFiles {
  readonly paths: MosquittoPaths;
  readonly conf: string;
  readonly files: readonly WrittenFile[];
  readonly crlNextUpdate: Date;
}

const PUBLIC = 0o644;
const SECRET = 0o600;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Everything a Mosquitto needs to serve the platform's devices, written
 * into `outDir` (absolute paths inside mosquitto.conf). Every file is
 * replaced atomically, so this may run again while the broker runs; keys are
 * new each time and reach the broker at its next reload.
 */
export async function writeMosquittoFiles(options: MosquittoFilesOptions): Promise<MosquittoFiles> {
  const dir = path.resolve(options.outDir);
  const now = options.now ?? new Date();
  const at = (name: string): string => path.join(dir, name);
  const paths: MosquittoPaths = {
    cafile: at('ca.crt'),
    certfile: at('server.crt'),
    keyfile: at('server.key'),
    crlfile: at('crl.pem'),
    aclFile: at('acl'),
    persistenceLocation: `${at('data')}${path.sep}`,
    pidFile: at(path.join('data', 'mosquitto.pid')),
  };
  const conf = renderMosquittoConf({ port: options.port, paths, bind: options.bind, runAsUser: options.runAsUser, limits: options.limits });
  const acl = renderMosquittoAcl(options.internalNames);
  await mkdir(at('data'), { recursive: true, mode: 0o700 });
  await chmod(at('data'), 0o700);

  const server = await issueServerCertificate(options.ca, {
    hostnames: [...new Set(['localhost', ...options.serverNames.hostnames])],
    ips: [...new Set(['127.0.0.1', ...options.serverNames.ips])],
    now,
  });
  const crlNextUpdate = new Date(now.getTime() + (options.crlValidityDays ?? 30) * DAY_MS);
  const crl = await buildCrl(options.ca, options.revoked, { thisUpdate: now, nextUpdate: crlNextUpdate });
  const files: [string, string, number, string][] = [
    [paths.cafile, options.ca.certificatePem, PUBLIC, 'device CA certificate (cafile; also for the platform and devices)'],
    [paths.certfile, server.certificatePem, PUBLIC, 'broker TLS certificate'],
    [paths.keyfile, server.privateKeyPem, SECRET, 'broker TLS key'],
    [paths.crlfile, crl, PUBLIC, `CRL, ${new Set(options.revoked.map((r) => r.serialNumber)).size} revoked, valid until ${crlNextUpdate.toISOString()}`],
    [paths.aclFile, acl, PUBLIC, 'ACL generated from the topic contract'],
  ];
  for (const name of new Set(options.internalNames)) {
    const internal = await issueInternalClientCertificate(options.ca, { name, now });
    files.push([at(`internal-${name}.crt`), internal.certificatePem, PUBLIC, `client certificate for iotplane:${name}`]);
    files.push([at(`internal-${name}.key`), internal.privateKeyPem, SECRET, `its key`]);
  }
  // Last: a broker started from a half-written folder fails on a missing file rather than on a stale one.
  files.push([at('mosquitto.conf'), conf, PUBLIC, 'broker configuration']);
  for (const [file, content, mode] of files) await replaceFile(file, content, mode);
  return { paths, conf, crlNextUpdate, files: files.map(([file, , mode, what]) => ({ path: file, what, mode })) };
}

