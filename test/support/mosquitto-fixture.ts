import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { deviceCertificatesStream } from '../../src/commands/device-certificates/device-certificate.events';
import { readRevocations } from '../../src/platform/mqtt/crl-revocations';
import { writeMosquittoFiles, type MosquittoFiles } from '../../src/platform/mqtt/mosquitto-files';
import { loadOrCreateDeviceCa, type DeviceCa } from '../../src/platform/pki/device-ca';
import { startMosquitto, freePort, type MosquittoProcess } from './mosquitto-process';
import { aDevice, attemptConnect, collect, connectDevice, deviceOptions, type Received, type TestDevice } from './mqtt-clients';
import { createTestPlatform, type TestPlatform } from './test-platform';
import { waitUntil } from './wait-until';

/**
 * A real Mosquitto started from the files `admin broker-config` writes
 * (`writeMosquittoFiles`), on a free port, with a test database whose event
 * log holds the revocations. `start` comes after any revocation the
 * generated CRL should already list.
 */
export class MosquittoFixture {
  readonly url: string;
  private process: MosquittoProcess | undefined;
  private written: MosquittoFiles | undefined;
  private readonly opened: MqttClient[] = [];

  private constructor(
    private readonly binary: string,
    readonly platform: TestPlatform,
    readonly ca: DeviceCa,
    private readonly work: string,
    readonly port: number,
  ) {
    this.url = `mqtts://127.0.0.1:${port}`;
  }

  static async create(binary: string): Promise<MosquittoFixture> {
    const platform = await createTestPlatform();
    const work = mkdtempSync(path.join(os.tmpdir(), 'iotplane-mosquitto-'));
    const ca = await loadOrCreateDeviceCa({ dataDir: path.join(work, 'ca') });
    return new MosquittoFixture(binary, platform, ca, work, await freePort());
  }

  get files(): MosquittoFiles {
    if (this.written === undefined) throw new Error('start() first');
    return this.written;
  }

  async start(internalNames: readonly string[]): Promise<void> {
    this.written = await writeMosquittoFiles({
      outDir: path.join(this.work, 'broker'),
      ca: this.ca,
      port: this.port,
      bind: '127.0.0.1',
      serverNames: { hostnames: [], ips: [] },
      internalNames,
      revoked: (await readRevocations(this.platform.store)).records,
      // The broker runs as whoever runs the tests (root stays root), so it can read the 0600 keys.
      runAsUser: os.userInfo().username,
    });
    await this.restart();
  }

  /** Stops the broker if it runs (SIGTERM: it saves its persistence) and starts it again from the same files. */
  async restart(): Promise<void> {
    await this.process?.stop();
    this.process = await startMosquitto(this.binary, path.join(this.work, 'broker', 'mosquitto.conf'), this.port);
  }

  track(client: MqttClient): MqttClient {
    this.opened.push(client);
    return client;
  }

  async device(): Promise<{ device: TestDevice; client: MqttClient }> {
    const created = await aDevice(this.ca);
    return { device: created, client: this.track(await connectDevice(this.url, this.ca, created)) };
  }

  /**
   * A client of an internal identity, authenticated with the files written
   * for it; collecting from before CONNACK, so messages queued for a
   * persistent session are not missed.
   */
  async internal(name: string, options: IClientOptions = {}): Promise<{ client: MqttClient; received: Received[] }> {
    const dir = path.join(this.work, 'broker');
    const client = this.track(
      connect(this.url, {
        clientId: `iotplane:${name}`,
        protocolVersion: 4,
        key: readFileSync(path.join(dir, `internal-${name}.key`)),
        cert: readFileSync(path.join(dir, `internal-${name}.crt`)),
        ca: [readFileSync(this.files.paths.cafile)],
        rejectUnauthorized: true,
        reconnectPeriod: 500,
        ...options,
      }),
    );
    const received = collect(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return { client, received };
  }

  /**
   * As provisioning records it (src/commands/device-certificates). Returns
   * once a read of the log sees it: readers stop below the oldest transaction
   * in flight anywhere in the cluster (other test files included), and
   * `start` must not generate a CRL without it.
   */
  async revoke(device: TestDevice, reason = 'KEY_COMPROMISE'): Promise<void> {
    await this.platform.store.appendToStream(deviceCertificatesStream(device.deviceId), [
      {
        id: randomUUID(),
        type: 'DeviceCertificateRevoked',
        data: { deviceId: device.deviceId, serialNumber: device.serialNumber, reason, revokedAt: new Date().toISOString() },
        metadata: { orgId: device.orgId, actor: 'system', correlationId: randomUUID(), causationId: null, schemaVersion: 1 },
      },
    ]);
    await waitUntil('the revocation is readable', async () =>
      (await readRevocations(this.platform.store)).records.some((record) => record.serialNumber === device.serialNumber),
    );
  }

  /**
   * Mosquitto reads the CRL asynchronously after SIGHUP. A fresh certificate
   * that is never connected is revoked last; once it is refused, every
   * revocation before it is in force. (Probing with a certificate that has a
   * live session would take that session over.)
   */
  async crlInForce(): Promise<void> {
    const canary = await aDevice(this.ca);
    await this.revoke(canary);
    await waitUntil('the revocations are in force', async () => {
      const attempt = await attemptConnect(this.url, deviceOptions(this.ca, canary));
      if (attempt.outcome === 'connected') await attempt.client.endAsync();
      return attempt.outcome === 'refused';
    }, 10_000);
  }

  async close(): Promise<void> {
    await Promise.all(this.opened.map((client) => client.endAsync(true)));
    await this.process?.stop();
    await this.platform.close();
    rmSync(this.work, { recursive: true, force: true });
  }
}
