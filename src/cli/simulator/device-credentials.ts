import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { P256_SIGNING, generateP256KeyPair, privateKeyPem, x509 } from '../../platform/pki/keys';

/** What a simulated device keeps between runs, under `DATA_DIR/simulator/<deviceId>/`. */
export interface DeviceCredentials {
  readonly deviceId: string;
  readonly orgId: string;
  readonly apiUrl: string;
  readonly mqttUrl: string;
  readonly sensors: readonly string[];
  readonly keyPem: string;
  readonly certificatePem: string;
  readonly caPem: string;
  /** The last readings sequence number sent, so a rerun continues the device's counter. */
  readonly lastSeq: number;
}

type DeviceFile = Omit<DeviceCredentials, 'keyPem' | 'certificatePem' | 'caPem'>;

/** A key made here, as on a device, and a CSR that carries only its public half. */
export async function generateKeyAndCsr(): Promise<{ keyPem: string; csrPem: string }> {
  const keys = await generateP256KeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=iotplane-simulator', keys, signingAlgorithm: P256_SIGNING });
  return { keyPem: privateKeyPem(keys.privateKey), csrPem: `${csr.toString('pem')}\n` };
}

export function credentialsRoot(dataDir: string): string {
  return path.join(dataDir, 'simulator');
}

export async function saveCredentials(root: string, device: DeviceCredentials): Promise<void> {
  const dir = path.join(root, device.deviceId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // The key first and private from its first byte: it is the device's only secret.
  await writeFile(path.join(dir, 'device.key'), device.keyPem, { mode: 0o600 });
  await chmod(path.join(dir, 'device.key'), 0o600);
  await writeFile(path.join(dir, 'device.crt'), device.certificatePem);
  await writeFile(path.join(dir, 'ca.crt'), device.caPem);
  await saveProgress(root, device);
}

/** Only the small JSON file: the counter moves on every run. */
export async function saveProgress(root: string, device: DeviceCredentials): Promise<void> {
  const { deviceId, orgId, apiUrl, mqttUrl, sensors, lastSeq } = device;
  const file: DeviceFile = { deviceId, orgId, apiUrl, mqttUrl, sensors, lastSeq };
  await writeFile(path.join(root, deviceId, 'device.json'), `${JSON.stringify(file, null, 2)}\n`);
}

/** Devices saved by earlier runs for this organization and API; incomplete folders are skipped. */
export async function loadCredentials(root: string, match: { orgId: string; apiUrl: string }): Promise<DeviceCredentials[]> {
  let entries: string[];
  try {
    entries = (await readdir(root)).sort();
  } catch {
    return [];
  }
  const found: DeviceCredentials[] = [];
  for (const entry of entries) {
    const dir = path.join(root, entry);
    try {
      const file = JSON.parse(await readFile(path.join(dir, 'device.json'), 'utf8')) as DeviceFile;
      if (file.orgId !== match.orgId || file.apiUrl !== match.apiUrl) continue;
      const [keyPem, certificatePem, caPem] = await Promise.all(['device.key', 'device.crt', 'ca.crt'].map((name) => readFile(path.join(dir, name), 'utf8')));
      found.push({ ...file, keyPem: keyPem ?? '', certificatePem: certificatePem ?? '', caPem: caPem ?? '' });
    } catch {
      // A run stopped half-way through provisioning this one: provision a new device instead.
    }
  }
  return found;
}
