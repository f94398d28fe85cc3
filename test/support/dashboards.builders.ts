import { randomUUID } from 'node:crypto';
import type { DashboardFields } from '../../src/commands/dashboards/dashboard.decider';
import type { DashboardLayout, DashboardWidget, WidgetPosition } from '../../src/commands/dashboards/dashboard.layout';

/** Small builders for dashboard documents: widgets laid out in a row unless a position is given. */
export const at = (x: number, y = 0, w = 6, h = 4): WidgetPosition => ({ x, y, w, h });

export const aTimeSeries = (sensorIds: string[], position = at(0), overrides: Partial<Extract<DashboardWidget, { type: 'TIME_SERIES' }>['config']> = {}, id = 'chart'): DashboardWidget => ({
  id,
  type: 'TIME_SERIES',
  title: 'Temperatures',
  position,
  config: { sensorIds, functions: ['avg', 'max'], ...overrides },
});

export const aStat = (sensorId: string, position = at(6), fn: 'last' | 'avg' | 'min' | 'max' | 'count' | 'first' | 'stddev' = 'last', id = 'stat'): DashboardWidget => ({
  id,
  type: 'STAT',
  title: 'Now',
  position,
  config: { sensorId, function: fn },
});

export const aCameraTile = (deviceId: string, position = at(12), id = 'camera'): DashboardWidget => ({
  id,
  type: 'CAMERA_TILE',
  title: 'Door',
  position,
  config: { deviceId, streamUrl: 'https://cams.example.com/door.m3u8' },
});

export const aLayout = (...widgets: DashboardWidget[]): DashboardLayout => ({ widgets });

export const aDashboardFields = (overrides: Partial<DashboardFields> = {}): DashboardFields => ({
  name: `Dashboard ${randomUUID().slice(0, 8)}`,
  description: null,
  siteId: null,
  visibility: 'ORGANIZATION',
  owner: 'user:alice',
  layout: aLayout(aTimeSeries([randomUUID()]), aCameraTile(randomUUID())),
  ...overrides,
});
