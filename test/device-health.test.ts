import { randomUUID } from 'node:crypto';
import { deviceHealthStream, type DeviceHealthEvent } from '../src/commands/device-health/device-health.events';
import { deriveHealth } from '../src/api/routes/device-health.queries';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';

let api: TestApi;
let org: TestOrg;
beforeAll(async () => {
  api = await startTestApi();
  org = await api.createOrg();
});
afterAll(async () => {
  await api.close();
});

async function record(orgId: string, event: DeviceHealthEvent): Promise<void> {
  const result = await api.platform.store.appendToStream(deviceHealthStream(event.data.deviceId), [
    { id: randomUUID(), type: event.type, data: event.data, metadata: { orgId, actor: `device:${event.data.deviceId}`, correlationId: randomUUID(), causationId: null, schemaVersion: 1 } },
  ]);
  await api.deps.watcher.waitFor(['device-health'], result.position, 5000);
}

const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
const report = (deviceId: string, at: string, extra: Partial<Extract<DeviceHealthEvent, { type: 'DeviceHealthReported' }>['data']> = {}) =>
  ({
    type: 'DeviceHealthReported',
    data: { deviceId, at, firmwareVersion: '1.2.3', signalDbm: -70, batteryPercent: 80, uptimeSeconds: 3600, ...extra },
  }) as const;

describe('GET /devices/{id}/health', () => {
  it('is UNKNOWN for a device never seen, and 404 for an unknown device', async () => {
    const device = await api.http().post('/api/v1/devices').set('Authorization', org.auth).send({ name: 'quiet' }).expect(201);
    const health = await api.http().get(`/api/v1/devices/${device.body.id}/health`).set('Authorization', org.auth).expect(200);
    expect(health.body).toMatchObject({ status: 'UNKNOWN', connected: false, lastSeenAt: null });
    const missing = await api.http().get(`/api/v1/devices/${randomUUID()}/health`).set('Authorization', org.auth).expect(404);
    expect(missing.body.code).toBe('DEVICE_NOT_FOUND');
  });

  it('follows connect, heartbeats, degradation and disconnect', async () => {
    const device = await api.http().post('/api/v1/devices').set('Authorization', org.auth).send({ name: 'chatty' }).expect(201);
    const id = device.body.id as string;
    const url = `/api/v1/devices/${id}/health`;
    await record(org.orgId, { type: 'DeviceConnected', data: { deviceId: id, at: ago(30), clientId: id } });
    await record(org.orgId, report(id, ago(10)));
    let health = await api.http().get(url).set('Authorization', org.auth).expect(200);
    expect(health.body).toMatchObject({ status: 'ONLINE', connected: true, firmwareVersion: '1.2.3', batteryPercent: 80 });

    await record(org.orgId, report(id, ago(5), { batteryPercent: 9 }));
    health = await api.http().get(url).set('Authorization', org.auth).expect(200);
    expect(health.body.status).toBe('DEGRADED');
    expect(health.body.reasons).toEqual(['battery 9 %']);

    // A report older than the stored one does not overwrite it.
    await record(org.orgId, report(id, ago(20), { batteryPercent: 99 }));
    health = await api.http().get(url).set('Authorization', org.auth).expect(200);
    expect(health.body.batteryPercent).toBe(9);

    await record(org.orgId, { type: 'DeviceDisconnected', data: { deviceId: id, at: ago(1), reason: 'client disconnected' } });
    health = await api.http().get(url).set('Authorization', org.auth).expect(200);
    expect(health.body).toMatchObject({ status: 'OFFLINE', connected: false });
  });
});

describe('deriveHealth', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  const row = (secondsAgo: number, extra: Record<string, unknown> = {}) => ({
    connected: true,
    connected_at: new Date(now.getTime() - 3600_000),
    disconnected_at: null,
    last_seen_at: new Date(now.getTime() - secondsAgo * 1000),
    firmware_version: null,
    signal_dbm: -60,
    battery_percent: 50,
    uptime_seconds: null,
    ...extra,
  });

  it('is ONLINE within the heartbeat interval, DEGRADED when late, OFFLINE after three intervals', () => {
    expect(deriveHealth(row(30), now).status).toBe('ONLINE');
    expect(deriveHealth(row(100), now).status).toBe('DEGRADED');
    expect(deriveHealth(row(200), now).status).toBe('OFFLINE');
  });

  it('is DEGRADED for a weak signal', () => {
    expect(deriveHealth(row(10, { signal_dbm: -110 }), now)).toEqual({ status: 'DEGRADED', reasons: ['signal -110 dBm'] });
  });
});
