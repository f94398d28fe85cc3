import { randomUUID } from 'node:crypto';
import { alertCommands } from '../../src/commands/alerts/alert.handler';
import { asWriter } from '../../src/platform/db/roles';
import { insertReadings, readingSeries } from './readings.builders';
import type { TestApi, TestOrg } from './test-api';
import { created, createDevice, createSensor, createSite } from './topology.http';

const DAY_MS = 86_400_000;
const STEP_MS = 10 * 60_000;

/** An export range: from UTC midnight two days ago to an hour from now, so it spans three days and holds "now". */
export function exportRange(now = Date.now()): { from: string; to: string } {
  const from = Math.floor(now / DAY_MS) * DAY_MS - 2 * DAY_MS;
  return { from: new Date(from).toISOString(), to: new Date(Math.ceil((now + 3_600_000) / 60_000) * 60_000).toISOString() };
}

export interface SeededReading {
  readonly deviceId: string;
  readonly sensorId: string;
  readonly ts: string;
  readonly value: number;
}

/**
 * An organization's topology for export tests: site S with devices d1 and
 * d2, device d3 without a site, a dynamic group G of the devices tagged
 * `export-g` (d1 and d3); sensors s1, s2 on d1, s3 on d2, s4 on d3. Readings
 * every 10 minutes from 6 hours before the range to its end; annotations
 * inside, across and outside the range; one alert raised now on s1.
 */
export interface SeededOrg {
  readonly org: TestOrg;
  readonly siteId: string;
  readonly groupId: string;
  readonly devices: { readonly d1: string; readonly d2: string; readonly d3: string };
  readonly sensors: { readonly s1: string; readonly s2: string; readonly s3: string; readonly s4: string };
  readonly readings: readonly SeededReading[];
  readonly annotations: readonly { id: string; scopeType: string; scopeId: string; startsAt: string; endsAt: string }[];
  readonly alertId: string;
}

export async function seedOrg(api: TestApi, org: TestOrg, range: { from: string; to: string }): Promise<SeededOrg> {
  const site = await createSite(api, org);
  const [d1, d2, d3, group] = await Promise.all([
    createDevice(api, org, { siteId: site.id, tags: ['export-g'] }),
    createDevice(api, org, { siteId: site.id, tags: [] }),
    createDevice(api, org, { tags: ['export-g'] }),
    created(api, org, '/api/v1/device-groups', { name: `g-${randomUUID().slice(0, 6)}`, kind: 'DYNAMIC', tagSelector: { allOf: ['export-g'] } }),
  ]).then((made) => made.map((m) => m.id));
  if (!d1 || !d2 || !d3 || !group) throw new Error('the topology was not created');
  const [s1 = '', s2 = '', s3 = '', s4 = ''] = await Promise.all([d1, d1, d2, d3].map(async (deviceId) => (await createSensor(api, org, deviceId)).id));
  const sensors = { s1, s2, s3, s4 };
  const owners: [string, string][] = [
    [sensors.s1, d1],
    [sensors.s2, d1],
    [sensors.s3, d2],
    [sensors.s4, d3],
  ];
  const start = new Date(Date.parse(range.from) - 6 * 3_600_000).toISOString();
  const count = Math.floor((Date.parse(range.to) - Date.parse(start)) / STEP_MS) + 1;
  const readings: SeededReading[] = [];
  for (const [index, [sensorId, deviceId]] of owners.entries()) {
    const series = readingSeries(start, count, STEP_MS, (i) => index * 1000 + i + 0.25);
    await insertReadings(api.platform.pool, { orgId: org.orgId, deviceId, sensorId }, series);
    readings.push(...series.map((r) => ({ deviceId, sensorId, ts: r.ts, value: r.value })));
  }
  const inside = (hours: number) => new Date(Date.parse(range.from) + hours * 3_600_000).toISOString();
  const annotations = [
    { id: randomUUID(), scopeType: 'SENSOR', scopeId: sensors.s1, startsAt: inside(1), endsAt: inside(2) },
    { id: randomUUID(), scopeType: 'DEVICE', scopeId: d1, startsAt: inside(-3), endsAt: inside(1) },
    { id: randomUUID(), scopeType: 'DEVICE', scopeId: d2, startsAt: inside(5), endsAt: inside(6) },
    { id: randomUUID(), scopeType: 'SITE', scopeId: site.id, startsAt: inside(7), endsAt: inside(8) },
    { id: randomUUID(), scopeType: 'SENSOR', scopeId: sensors.s1, startsAt: inside(-10), endsAt: inside(-9) },
  ];
  await asWriter(api.platform.pool, async (tx) => {
    for (const a of annotations) {
      await tx.query(
        `INSERT INTO annotations (org_id, id, class_id, scope_type, scope_id, starts_at, ends_at, note, author, value, confidence, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'seeded, with "quotes", commas and a\nnewline', 'user:seed', 1.5, 0.9, 0, now(), now())`,
        [org.orgId, a.id, randomUUID(), a.scopeType, a.scopeId, a.startsAt, a.endsAt],
      );
    }
  });
  const alertId = randomUUID();
  const facts = { id: alertId, ruleId: randomUUID(), ruleName: 'too warm, "really"', severity: 'WARNING' as const, sensorId: sensors.s1, deviceId: d1, channelIds: [] };
  const ctx = { orgId: org.orgId, actor: 'system' as const, correlationId: randomUUID() };
  const now = new Date().toISOString();
  const raised = await alertCommands.raise(api.platform.store, ctx, facts.ruleId, sensors.s1, { facts, message: 'value 9,5: above 8\nsecond line', reading: { ts: now, value: 9.5 }, now });
  if (raised.position) await api.deps.watcher.waitFor(['alerts', 'activity-events'], raised.position, 10_000);
  return { org, siteId: site.id, groupId: group, devices: { d1, d2, d3 }, sensors, readings, annotations, alertId };
}

/** The seeded readings an export of these devices over the range must hold. */
export function expectedReadings(seed: SeededOrg, devices: readonly string[], range: { from: string; to: string }): SeededReading[] {
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  return seed.readings.filter((r) => devices.includes(r.deviceId) && Date.parse(r.ts) >= from && Date.parse(r.ts) < to);
}
