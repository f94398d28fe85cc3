import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { createOrganization } from '../../src/commands/organizations/organization.handler';
import { deviceCommands } from '../../src/commands/devices/device.handler';
import { sensorProfileCommands } from '../../src/commands/sensor-profiles/sensor-profile.handler';
import { sensorCommands } from '../../src/commands/sensors/sensor.handler';
import { startReadingsIngest, type ReadingsIngest } from '../../src/ingest/readings-ingest';
import { startReadingsService, type ReadingsService } from '../../src/ingest/readings/readings-service';
import { loadConfig, type Config } from '../../src/platform/config';
import { createPool, type Pool } from '../../src/platform/db/pool';
import { PostgresEventStore } from '../../src/platform/event-store/postgres-event-store';
import { createLogger } from '../../src/platform/logger';
import type { Platform } from '../../src/platform/platform';
import type { DeviceCa } from '../../src/platform/pki/device-ca';
import type { MqttClient } from 'mqtt';
import { startProjectors } from '../../src/projections/projector-process';
import { capturedLogger, type CapturedLog } from './captured-logger';
import { gatedPool, type GatedPool } from './gated-pool';
import { internalClients } from './internal-clients';
import { aDevice, type TestDevice } from './mqtt-clients';
import type { ProtocolDevice } from './protocol-device';
import { waitUntil } from './wait-until';

/** Every message carries one reading per key; `pressure` (~1013) is outside its profile's range, so it is always quarantined. */
export const FAULT_SENSOR_KEYS = ['temp', 'humidity', 'pressure'] as const;
export const QUARANTINED_KEY = 'pressure';

/** A platform (config, pool, Postgres event store) on a given database; quiet logs. */
export function openPlatformOn(databaseUrl: string, dataDir: string, env: Record<string, string> = {}): Platform {
  const config: Config = loadConfig({
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    PUBLIC_URL: 'http://iotplane.test',
    JWT_SECRET: 'test-secret-that-is-at-least-32-characters-long',
    ...env,
  });
  const pool = createPool(databaseUrl, 10, 'iotplane-fault-platform');
  const store = new PostgresEventStore(pool, databaseUrl);
  return {
    config,
    log: createLogger(config.logLevel),
    databaseUrl,
    pool,
    store,
    async close() {
      await store.close();
      await pool.end();
    },
  };
}

export interface FleetDevice {
  readonly deviceId: string;
  readonly identity: TestDevice;
}

export interface Fleet {
  readonly orgId: string;
  readonly sensorKeyById: ReadonlyMap<string, string>;
  readonly groups: readonly (readonly FleetDevice[])[];
}

/**
 * One organization and `sizes[i]` devices per group, each with the
 * FAULT_SENSOR_KEYS sensors, created through the commands and projected
 * (the ingester reads devices and sensors from the read models); a
 * certificate per device from `ca`.
 */
export async function createFleet(platform: Platform, ca: DeviceCa, sizes: readonly number[]): Promise<Fleet> {
  const projectors = startProjectors(platform, platform.log, { idleCheckpointMs: 50, standbyRetryMs: 200 });
  try {
    const org = await createOrganization(platform.store, { name: 'Readings fault tests' });
    const ctx = { orgId: org.orgId, actor: 'system' as const, correlationId: randomUUID() };
    const profileId = randomUUID();
    await sensorProfileCommands.create(platform.store, ctx, profileId, {
      name: 'Pressure, deliberately too narrow',
      description: null,
      quantity: 'pressure',
      unit: 'hPa',
      validRange: { min: 0, max: 100 },
      expectedIntervalSeconds: null,
      precision: null,
    });
    const sensorKeyById = new Map<string, string>();
    const groups: FleetDevice[][] = [];
    for (const size of sizes) {
      const group: FleetDevice[] = [];
      for (let i = 0; i < size; i += 1) {
        const deviceId = randomUUID();
        await deviceCommands.create(platform.store, ctx, deviceId, {
          name: `fault-${groups.length}-${i}`, siteId: null, deviceProfileId: null, serialNumber: null, labels: {}, tags: [], status: 'ACTIVE',
        });
        for (const key of FAULT_SENSOR_KEYS) {
          const sensorId = randomUUID();
          await sensorCommands.create(platform.store, ctx, sensorId, {
            deviceId, componentId: null, key, name: null, sensorProfileId: key === QUARANTINED_KEY ? profileId : null, unit: null,
          });
          sensorKeyById.set(sensorId, key);
        }
        group.push({ deviceId, identity: await aDevice(ca, { deviceId, orgId: org.orgId }) });
      }
      groups.push(group);
    }
    const ids = groups.flat().map((d) => d.deviceId);
    await waitUntil('the devices and sensors are projected', async () => {
      const { rows } = await platform.pool.query<{ devices: number; sensors: number; profiles: number }>(
        `SELECT (SELECT count(*) FROM devices WHERE id = ANY($1::uuid[])) AS devices,
                (SELECT count(*) FROM sensors WHERE device_id = ANY($1::uuid[])) AS sensors,
                (SELECT count(*) FROM sensor_profiles WHERE id = $2) AS profiles`,
        [ids, profileId],
      );
      const row = rows[0];
      return row?.devices === ids.length && row.sensors === ids.length * FAULT_SENSOR_KEYS.length && row.profiles === 1;
    }, 20_000, 50);
    return { orgId: org.orgId, sensorKeyById, groups };
  } finally {
    await projectors.stop();
  }
}

export interface IngesterOptions {
  readonly url: string;
  readonly ca: DeviceCa;
  /** Internal identity prefix: connection k is `<name>-<k>`. */
  readonly name: string;
  readonly connections?: number;
}

/**
 * One ingest process as `ROLE=ingest` wires it: a readings service on a pool
 * of its own (gated, so a test can freeze it) and the MQTT door. The rows it
 * buffers are sampled every 5 ms (`peak`).
 */
export class Ingester {
  readonly peak = { bufferedRows: 0, paused: false };
  private sampler: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(
    readonly name: string,
    private readonly platform: Platform,
    readonly gate: GatedPool,
    readonly service: ReadingsService,
    readonly ingest: ReadingsIngest,
    readonly log: CapturedLog,
    /** This ingester's MQTT connections (those recorded while it started). */
    readonly clients: readonly MqttClient[],
  ) {
    this.sampler = setInterval(() => void this.sample(), 5);
  }

  static async start(platform: Platform, options: IngesterOptions): Promise<Ingester> {
    const log = capturedLogger('warn');
    const gate = gatedPool(createPool(platform.databaseUrl, 10, `iotplane-${options.name}`));
    const before = internalClients(`${options.name}-`).length;
    let service: ReadingsService | undefined;
    try {
      service = await startReadingsService({ ...platform, pool: gate.pool, log: log.log, registry: new Registry() });
      const ingest = await startReadingsIngest({
        url: options.url,
        ca: options.ca,
        service,
        pool: gate.pool,
        store: platform.store,
        log: log.log,
        name: options.name,
        connections: options.connections ?? 2,
        gapTimeoutSeconds: 300, // holes must be filled by resends here, never closed as gaps
        gapSweepMs: 1_000,
      });
      return new Ingester(options.name, platform, gate, service, ingest, log, internalClients(`${options.name}-`).slice(before));
    } catch (error) {
      await service?.stop().catch(() => undefined);
      await gate.pool.end().catch(() => undefined);
      throw error;
    }
  }

  async bufferedRows(): Promise<number> {
    return (await this.service.metrics.bufferedRows.get()).values[0]?.value ?? 0;
  }

  /**
   * Dies abruptly: its database work stops (new checkouts hang, its
   * connections are terminated, so uncommitted transactions roll back) and
   * its MQTT connections are destroyed without DISCONNECT. What it
   * acknowledged and had not committed is gone.
   */
  async crash(): Promise<void> {
    this.gate.freeze();
    for (const client of this.clients) client.end(true);
    await this.platform.pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`iotplane-${this.name}`]);
  }

  /** Graceful stop (after a crash: lets its stuck work finish first, so nothing is left running). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.sampler);
    this.gate.thaw();
    await this.ingest.stop();
    await this.service.stop();
    await this.gate.pool.end();
  }

  private async sample(): Promise<void> {
    const rows = await this.bufferedRows();
    if (rows > this.peak.bufferedRows) this.peak.bufferedRows = rows;
    if (!this.service.pipeline.hasRoom()) this.peak.paused = true;
  }
}

interface ProgressRow {
  device_id: string;
  committed_seq: number | null;
  /** bigint[]: pg hands the elements over as text. */
  ahead: string[];
  gaps: number;
  missing: number;
}

async function progressOf(pool: Pool, ids: readonly string[]): Promise<Map<string, ProgressRow>> {
  const { rows } = await pool.query<ProgressRow>(
    'SELECT device_id, committed_seq, ahead, gaps, missing FROM device_ingest_progress WHERE device_id = ANY($1::uuid[])',
    [ids],
  );
  return new Map(rows.map((row) => [row.device_id, row]));
}

/** Waits until every device's committed_seq is its last seq; on timeout, says where each one stands. */
export async function waitForCommitted(pool: Pool, devices: readonly ProtocolDevice[], timeoutMs: number): Promise<void> {
  let state = '';
  try {
    await waitUntil('every device’s committed_seq is its last seq', async () => {
      const progress = await progressOf(pool, devices.map((d) => d.deviceId)).catch(() => new Map<string, ProgressRow>());
      state = devices
        .map((d) => {
          const p = progress.get(d.deviceId);
          const ahead = p?.ahead ?? [];
          return `${d.deviceId.slice(0, 8)}: committed ${p?.committed_seq ?? '-'} of ${d.lastSeq}, stored above a hole ${ahead.length} (${ahead.slice(0, 5).join(',')}…), kept ${d.unconfirmed}, resent ${d.resent}, connected ${d.connected}`;
        })
        .join('\n');
      return devices.every((d) => progress.get(d.deviceId)?.committed_seq === d.lastSeq);
    }, timeoutMs, 100);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${state}`);
  }
}

export interface DeviceAccount {
  readonly device: string;
  readonly committedSeq: number | null;
  readonly storedAboveHole: number;
  readonly gaps: number;
  /** Readings sent and found nowhere (first few). */
  readonly lost: string[];
  /** Readings found more than once (first few). */
  readonly duplicated: string[];
  /** Rows that match nothing the device sent (first few). */
  readonly unexplained: string[];
}

export interface FleetAccount {
  readonly devices: DeviceAccount[];
  /** Readings in every message the devices sent (by seq, each counted once). */
  readonly sent: number;
  readonly stored: number;
  readonly quarantined: number;
  readonly quarantineReasons: string[];
}

const FIRST = 5;

function tally(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/**
 * Every reading of every message 1..lastSeq of each device, against what
 * the database holds: stored readings (S) and quarantined ones (Q), keyed by
 * seq, sensor, timestamp and value.
 */
export async function accountFor(pool: Pool, devices: readonly ProtocolDevice[], sensorKeyById: ReadonlyMap<string, string>): Promise<FleetAccount> {
  const ids = devices.map((d) => d.deviceId);
  const stored = await pool.query<{ device_id: string; sensor_id: string; seq: number | null; ts: Date; value: number }>(
    'SELECT device_id, sensor_id, seq, ts, value FROM readings WHERE device_id = ANY($1::uuid[])',
    [ids],
  );
  const quarantined = await pool.query<{ device_id: string; sensor_key: string | null; seq: number | null; reason: string; payload: string }>(
    'SELECT device_id, sensor_key, seq, reason, payload FROM quarantined_readings WHERE device_id = ANY($1::uuid[])',
    [ids],
  );
  const progress = await progressOf(pool, ids);
  const actualByDevice = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const row of stored.rows) {
    actualByDevice.get(row.device_id)?.push(`S seq=${row.seq} ${sensorKeyById.get(row.sensor_id) ?? row.sensor_id} ${row.ts.toISOString()} ${row.value}`);
  }
  for (const row of quarantined.rows) {
    const item = JSON.parse(row.payload) as { ts?: string; value?: number };
    actualByDevice.get(row.device_id)?.push(`Q seq=${row.seq} ${row.sensor_key} ${new Date(item.ts ?? 0).toISOString()} ${item.value}`);
  }
  let sent = 0;
  const accounts = devices.map((device): DeviceAccount => {
    const expected: string[] = [];
    for (let seq = 1; seq <= device.lastSeq; seq += 1) {
      const message = device.published.get(seq);
      if (!message) continue;
      const { readings } = JSON.parse(message.payload) as { readings: { sensor: string; ts: string; value: number }[] };
      for (const r of readings) {
        sent += 1;
        expected.push(`${r.sensor === QUARANTINED_KEY ? 'Q' : 'S'} seq=${seq} ${r.sensor} ${new Date(r.ts).toISOString()} ${r.value}`);
      }
    }
    const want = tally(expected);
    const got = tally(actualByDevice.get(device.deviceId) ?? []);
    const p = progress.get(device.deviceId);
    return {
      device: device.deviceId.slice(0, 8),
      committedSeq: p?.committed_seq ?? null,
      storedAboveHole: p?.ahead.length ?? 0,
      gaps: p?.gaps ?? 0,
      lost: [...want.keys()].filter((key) => !got.has(key)).slice(0, FIRST),
      duplicated: [...got.entries()].filter(([key, n]) => n > (want.get(key) ?? 0) && want.has(key)).map(([key, n]) => `${key} ×${n}`).slice(0, FIRST),
      unexplained: [...got.keys()].filter((key) => !want.has(key)).slice(0, FIRST),
    };
  });
  return {
    devices: accounts,
    sent,
    stored: stored.rowCount ?? 0,
    quarantined: quarantined.rowCount ?? 0,
    quarantineReasons: [...new Set(quarantined.rows.map((r) => r.reason))].sort(),
  };
}

/** What `accountFor` must show when nothing was lost or duplicated and every device is committed up to its last seq. */
export function cleanAccount(devices: readonly ProtocolDevice[]): Pick<FleetAccount, 'devices'> {
  return {
    devices: devices.map((d) => ({ device: d.deviceId.slice(0, 8), committedSeq: d.lastSeq, storedAboveHole: 0, gaps: 0, lost: [], duplicated: [], unexplained: [] })),
  };
}

/** Readings messages refused for an unknown device (`rejected`), summed over ingesters. */
export async function rejectedMessages(ingesters: readonly Ingester[]): Promise<number> {
  let total = 0;
  for (const ingester of ingesters) {
    for (const value of (await ingester.service.metrics.rejected.get()).values) total += value.value;
  }
  return total;
}
