import { credentialsRoot, generateKeyAndCsr, loadCredentials, saveCredentials, saveProgress, type DeviceCredentials } from './device-credentials';
import { PlatformClient } from './platform-client';
import { SimulatedDevice } from './simulated-device';

export interface SimulationOptions {
  readonly count: number;
  /** Readings messages per second, in total across the devices. */
  readonly ratePerSecond: number;
  /** Sensors created per new device (temp, humidity, pressure, …). */
  readonly sensors: number;
  readonly apiUrl: string;
  readonly apiKey: string;
  /** Credentials are kept under `dataDir/simulator/<deviceId>/` and reused by the next run. */
  readonly dataDir: string;
  readonly mqttUrl?: string;
  readonly heartbeatSeconds?: number;
  readonly maxUnconfirmed?: number;
  /** Devices enrolled at the same time. */
  readonly concurrency?: number;
}

export interface SimulationProgress {
  readonly total: number;
  readonly provisioned: number;
  readonly reused: number;
  readonly connected: number;
  readonly sent: number;
  readonly resent: number;
  readonly unconfirmed: number;
  readonly overflowed: number;
  readonly commands: number;
  readonly configs: number;
  readonly errors: number;
  readonly lastError: string | undefined;
}

export interface Simulation {
  readonly devices: readonly SimulatedDevice[];
  progress(): SimulationProgress;
  /** Stops publishing, disconnects every device and saves each one's sequence number. */
  stop(): Promise<void>;
}

const SENSOR_KEYS = ['temp', 'humidity', 'pressure', 'co2', 'voltage', 'current'];
const TICK_MS = 100;

export function sensorKeys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => SENSOR_KEYS[i] ?? `sensor-${i + 1}`);
}

/**
 * Enrols the devices a run needs (reusing those saved by earlier runs for the
 * same organization and API), connects each as soon as it is ready, and
 * publishes readings at the total rate, round robin over the devices.
 */
export async function startSimulation(options: SimulationOptions): Promise<Simulation> {
  const client = new PlatformClient(options.apiUrl, options.apiKey);
  const orgId = await client.organizationId();
  const root = credentialsRoot(options.dataDir);
  const saved = (await loadCredentials(root, { orgId, apiUrl: options.apiUrl })).slice(0, options.count);
  const deviceOptions = { mqttUrl: options.mqttUrl, heartbeatMs: (options.heartbeatSeconds ?? 60) * 1000, maxUnconfirmed: options.maxUnconfirmed ?? 1000 };
  const devices: SimulatedDevice[] = [];
  let stopping = false;
  let enrolError: string | undefined;

  const launch = (credentials: DeviceCredentials): void => {
    const device = new SimulatedDevice(credentials, deviceOptions);
    devices.push(device);
    device.start();
  };
  saved.forEach(launch);

  const enrol = async (index: number): Promise<DeviceCredentials> => {
    const { token, deviceId } = await client.createRegistrationToken(`simulated-${index + 1}`);
    const { keyPem, csrPem } = await generateKeyAndCsr();
    const answer = await client.provision(token, csrPem);
    const sensors = sensorKeys(options.sensors);
    for (const key of sensors) await client.createSensor(deviceId, key);
    const credentials = { deviceId, orgId, apiUrl: options.apiUrl, mqttUrl: answer.mqtt.url, sensors, keyPem, certificatePem: answer.certificate, caPem: answer.caChain, lastSeq: 0 };
    await saveCredentials(root, credentials);
    return credentials;
  };
  let next = saved.length;
  const worker = async (): Promise<void> => {
    while (!stopping && enrolError === undefined && next < options.count) {
      const index = next;
      next += 1;
      try {
        launch(await enrol(index));
      } catch (error) {
        enrolError = error instanceof Error ? error.message : String(error);
      }
    }
  };
  const enrolling = Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));

  let budget = 0;
  let turn = 0;
  let last = Date.now();
  const ticker = setInterval(() => {
    const now = Date.now();
    // At most one second's worth at once: a stalled loop does not burst afterwards.
    budget = Math.min(budget + ((now - last) / 1000) * options.ratePerSecond, Math.max(options.ratePerSecond, 1));
    last = now;
    const at = new Date(now);
    for (; budget >= 1 && devices.length > 0; budget -= 1, turn += 1) devices[turn % devices.length]?.publishReadings(at);
  }, TICK_MS);

  const sum = (pick: (d: SimulatedDevice) => number): number => devices.reduce((total, d) => total + pick(d), 0);
  return {
    devices,
    progress: () => ({
      total: options.count,
      provisioned: devices.length - saved.length,
      reused: saved.length,
      connected: devices.filter((d) => d.connected).length,
      sent: sum((d) => d.counters.sent),
      resent: sum((d) => d.counters.resent),
      unconfirmed: sum((d) => d.unconfirmedCount),
      overflowed: sum((d) => d.overflowed),
      commands: sum((d) => d.counters.commands),
      configs: sum((d) => d.counters.configs),
      errors: sum((d) => d.counters.errors) + (enrolError === undefined ? 0 : 1),
      lastError: enrolError ?? devices.find((d) => d.lastError !== undefined)?.lastError,
    }),
    async stop() {
      stopping = true;
      clearInterval(ticker);
      await enrolling;
      await Promise.all(devices.map((d) => d.stop()));
      await Promise.all(devices.map((d) => saveProgress(root, { ...d.credentials, lastSeq: d.lastSeq })));
    },
  };
}
