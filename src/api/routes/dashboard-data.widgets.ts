import type { DashboardWidget, ValueFunction } from '../../commands/dashboards/dashboard.layout';
import { assertNever } from '../../commands/decider';
import type { Queryable } from '../../platform/db/pool';
import { AppError } from '../../platform/errors';
import { listAlerts } from './alerts.queries';
import { devicesOf, findDevice, latestReadings, mapDevices, requireSite, sensorsOfDevices, type DeviceScope } from './dashboard-data.queries';
import { fitBucket, widgetPixels } from './dashboard-data.buckets';
import { checkPointLimit, type TimeRange } from './readings.params';
import { aggregateReadings, readingStats, selectSensors, type SensorSelection, type SensorStats } from './readings.queries';

/** What every widget of one data call shares. */
export interface WidgetInput {
  readonly db: Queryable;
  readonly range: TimeRange;
  /** The dashboard's width in pixels. */
  readonly width: number;
  readonly now: Date;
  /** JSON pointer of the widget in the dashboard, e.g. `/layout/widgets/3`. */
  readonly at: string;
}

/** Devices a table lists at most, and a map shows at most; a longer scope is cut (by name) and flagged `truncated`. */
export const MAX_TABLE_ROWS = 200;
export const MAX_MAP_DEVICES = 500;
const DEFAULT_ALERTS = 20;

/** The readings layer's sensor resolution, its 404 pointing into the widget's config instead of a query string. */
async function sensorsOf(input: WidgetInput, ids: readonly string[], pointer: (index: number) => string): Promise<SensorSelection> {
  try {
    return await selectSensors(input.db, { sensorId: [...ids] });
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'SENSOR_NOT_FOUND') throw error;
    const index = Number(/\/(\d+)$/.exec(error.errors[0]?.path ?? '')?.[1] ?? 0);
    throw new AppError('SENSOR_NOT_FOUND', 'A sensor of the widget does not exist any more.', [{ path: pointer(index), message: 'does not exist' }]);
  }
}

function valueOf(stats: SensorStats, fn: ValueFunction): number | null {
  switch (fn) {
    case 'last':
      return stats.last?.value ?? null;
    case 'first':
      return stats.first?.value ?? null;
    case 'count':
      return stats.count;
    case 'avg':
    case 'min':
    case 'max':
    case 'stddev':
      return stats[fn];
    default:
      return assertNever(fn);
  }
}

async function tableRows(input: WidgetInput, scope: DeviceScope, sensorKey: string | undefined) {
  const devices = await devicesOf(input.db, scope, MAX_TABLE_ROWS + 1);
  const shown = devices.slice(0, MAX_TABLE_ROWS);
  const sensors = await sensorsOfDevices(input.db, shown.map((d) => d.id), sensorKey);
  const latest = await latestReadings(input.db, sensors.map((s) => s.id), input.range);
  const rows = shown.map((device) => ({
    deviceId: device.id,
    name: device.name,
    status: device.status,
    readings: sensors
      .filter((s) => s.device_id === device.id)
      .map((s) => ({ sensorId: s.id, key: s.key, unit: s.unit, latest: latest.get(s.id) ?? null })),
  }));
  return { rows, truncated: devices.length > MAX_TABLE_ROWS };
}

function scopeOf(config: { deviceIds?: string[]; siteId?: string; groupId?: string }, at: string): DeviceScope {
  if (config.deviceIds) return { deviceIds: config.deviceIds, at: `${at}/config/deviceIds` };
  if (config.siteId) return { siteId: config.siteId };
  if (config.groupId) return { groupId: config.groupId };
  throw new AppError('UNPROCESSABLE', 'The widget names no devices.', [{ path: `${at}/config`, message: 'must name exactly one scope' }]);
}

/** Whether the widget reads the readings table (the costly ones, resolved after the others). */
export function readsReadings(widget: DashboardWidget): boolean {
  return widget.type === 'TIME_SERIES' || widget.type === 'GAUGE' || widget.type === 'STAT' || widget.type === 'TABLE';
}

/** One widget's data; throws an AppError (or a database error) that becomes the widget's error entry. */
export async function widgetData(widget: DashboardWidget, input: WidgetInput): Promise<unknown> {
  const { at } = input;
  switch (widget.type) {
    case 'TIME_SERIES': {
      const sensors = await sensorsOf(input, widget.config.sensorIds, (i) => `${at}/config/sensorIds/${i}`);
      const { bucket, maxPoints } = fitBucket(input.range, widgetPixels(input.width, widget.position.w), sensors.sensorIds.length, widget.config.bucket);
      checkPointLimit(input.range, bucket, sensors.sensorIds.length);
      const series = await aggregateReadings(input.db, sensors, input.range, bucket, widget.config.functions, {});
      return { bucket, maxPoints, functions: widget.config.functions, series };
    }
    case 'GAUGE':
    case 'STAT': {
      const { sensorId, function: fn, min, max } = widget.config;
      const sensors = await sensorsOf(input, [sensorId], () => `${at}/config/sensorId`);
      const [stats] = await readingStats(input.db, sensors, input.range, [], {});
      // readingStats answers one item per sensor asked, with or without readings.
      if (!stats) throw new AppError('INTERNAL', `No statistics came back for sensor ${sensorId}.`);
      const { percentiles: _percentiles, sensorId: _sensorId, ...shown } = stats;
      return { sensorId, function: fn, value: valueOf(stats, fn), latest: stats.last, stats: shown, min: min ?? null, max: max ?? null };
    }
    case 'TABLE':
      return tableRows(input, scopeOf(widget.config, at), widget.config.sensorKey);
    case 'MAP': {
      const devices = await devicesOf(input.db, scopeOf(widget.config, at), MAX_MAP_DEVICES + 1);
      return { devices: await mapDevices(input.db, devices.slice(0, MAX_MAP_DEVICES), input.now), truncated: devices.length > MAX_MAP_DEVICES };
    }
    case 'ALERT_LIST': {
      const { status, severity, siteId, deviceId, limit } = widget.config;
      if (siteId) await requireSite(input.db, siteId);
      if (deviceId) await findDevice(input.db, deviceId);
      const page = await listAlerts(input.db, {
        limit: limit ?? DEFAULT_ALERTS,
        status: status ?? ['OPEN', 'ACKNOWLEDGED'],
        ...(severity ? { severity } : {}),
        ...(siteId ? { siteId } : {}),
        ...(deviceId ? { deviceId } : {}),
      });
      return { alerts: page.items };
    }
    case 'CAMERA_TILE': {
      const device = await findDevice(input.db, widget.config.deviceId);
      return { device: { id: device.id, name: device.name, status: device.status }, streamUrl: widget.config.streamUrl ?? null };
    }
    default:
      return assertNever(widget);
  }
}
