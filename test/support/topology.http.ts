import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import type { TestApi, TestOrg } from './test-api';

/** HTTP builders for profiles, devices, components and sensors: each creates one resource and returns its representation. */
export type Created = Record<string, unknown> & { id: string; version: number };

export async function created(api: TestApi, org: TestOrg, url: string, body: Record<string, unknown>): Promise<Created> {
  const res = await api.http().post(url).set('Authorization', org.auth).send(body);
  if (res.status !== 201) throw new Error(`POST ${url} answered ${res.status}: ${res.text}`);
  return res.body as Created;
}

const unique = (): string => randomUUID().slice(0, 8);

export const aSensorProfileBody = (overrides: Record<string, unknown> = {}) => ({
  name: `Temperature ${unique()}`,
  quantity: 'temperature',
  unit: '°C',
  validRange: { min: -40, max: 85 },
  expectedIntervalSeconds: 60,
  precision: 1,
  ...overrides,
});

export const aDeviceBody = (overrides: Record<string, unknown> = {}) => ({
  name: `Gateway ${unique()}`,
  serialNumber: `SN-${randomUUID()}`,
  labels: { rack: 'a1' },
  tags: ['roof'],
  ...overrides,
});

export const createSite = (api: TestApi, org: TestOrg) => created(api, org, '/api/v1/sites', { name: `Site ${unique()}` });
export const createSensorProfile = (api: TestApi, org: TestOrg, overrides: Record<string, unknown> = {}) =>
  created(api, org, '/api/v1/sensor-profiles', aSensorProfileBody(overrides));
export const createDeviceProfile = (api: TestApi, org: TestOrg, overrides: Record<string, unknown> = {}) =>
  created(api, org, '/api/v1/device-profiles', { name: `Profile ${unique()}`, ...overrides });
export const createDevice = (api: TestApi, org: TestOrg, overrides: Record<string, unknown> = {}) =>
  created(api, org, '/api/v1/devices', aDeviceBody(overrides));
export const createComponent = (api: TestApi, org: TestOrg, deviceId: string, overrides: Record<string, unknown> = {}) =>
  created(api, org, '/api/v1/components', { deviceId, key: `board-${unique()}`, kind: 'BOARD', ...overrides });
export const createSensor = (api: TestApi, org: TestOrg, deviceId: string, overrides: Record<string, unknown> = {}) =>
  created(api, org, '/api/v1/sensors', { deviceId, key: `temp-${unique()}`, ...overrides });

/** What a client sees of a refusal: two refusals must not differ in anything. */
export function refusal(res: Response): { status: number; body: unknown } {
  return { status: res.status, body: res.body as unknown };
}

/** Every item of a list, following nextCursor with small pages. */
export async function listAll(api: TestApi, org: TestOrg, url: string, limit = 2): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const page: Response = await api
      .http()
      .get(`${url}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)
      .set('Authorization', org.auth)
      .expect(200);
    const body = page.body as { items: Record<string, unknown>[]; nextCursor: string | null };
    expect(body.items.length).toBeLessThanOrEqual(limit);
    items.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  return items;
}

export const ids = (items: readonly Record<string, unknown>[]): unknown[] => items.map((item) => item.id);
