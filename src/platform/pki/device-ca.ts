import { ConfigError } from '../config';
import { assembleDeviceCa, type DeviceCa } from './device-ca.validation';
import { createDeviceCaFiles, deviceCaPaths, readDeviceCaFiles, waitForDeviceCaFiles } from './device-ca.files';
import { P256_SIGNING, generateP256KeyPair, privateKeyPem, randomSerialNumber, toPem, x509 } from './keys';

export type { DeviceCa } from './device-ca.validation';
export { deviceCaPaths } from './device-ca.files';

export interface DeviceCaOptions {
  readonly dataDir: string;
  /** Contents of DEVICE_CA_CERT / DEVICE_CA_KEY; when given they win over the data folder. */
  readonly certPem?: string | undefined;
  readonly keyPem?: string | undefined;
}

const CA_NAME = 'iotplane device CA';
const CA_VALIDITY_YEARS = 10;
const CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * The operator's CA when supplied, else the one kept in `dataDir/pki`,
 * generated there on first start. Anything wrong with it stops the start
 * with a ConfigError naming the variable or file.
 */
export async function loadOrCreateDeviceCa(options: DeviceCaOptions): Promise<DeviceCa> {
  const { certPem, keyPem } = options;
  if (certPem !== undefined || keyPem !== undefined) {
    if (certPem === undefined) throw new ConfigError('DEVICE_CA_CERT', 'is required when DEVICE_CA_KEY is set');
    if (keyPem === undefined) throw new ConfigError('DEVICE_CA_KEY', 'is required when DEVICE_CA_CERT is set');
    return assembleDeviceCa(certPem, keyPem, { cert: 'DEVICE_CA_CERT', key: 'DEVICE_CA_KEY', source: 'operator' });
  }
  const paths = deviceCaPaths(options.dataDir);
  const names = { cert: paths.cert, key: paths.key, source: 'data-dir' } as const;
  const existing = await readDeviceCaFiles(paths);
  if (existing) return assembleDeviceCa(existing.certPem, existing.keyPem, names);
  // Losing the creation race to another process is fine: both then read the winner's files.
  await createDeviceCaFiles(paths, await generateDeviceCa(new Date()));
  const created = await waitForDeviceCaFiles(paths);
  return assembleDeviceCa(created.certPem, created.keyPem, names);
}

/** A self-signed EC P-256 root that may sign only end-entity certificates (pathLen 0) and CRLs. */
async function generateDeviceCa(now: Date): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateP256KeyPair();
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [CA_NAME] }],
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    keys,
    signingAlgorithm: P256_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: toPem(certificate.rawData, 'CERTIFICATE'), keyPem: privateKeyPem(keys.privateKey) };
}
