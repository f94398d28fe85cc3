import { AppError, type FieldError } from '../../platform/errors';
import type { AlertSeverity, AlertStatus } from '../alerts/alert.events';
import { assertNever } from '../decider';

/**
 * A dashboard's layout: widgets on a 24-column grid, each reading sensors,
 * devices, sites or device groups of the organization. The shape is the
 * schema `dashboards#/$defs/DashboardLayout`; what a schema cannot say
 * (unique ids, the grid's edges, overlaps, one scope per widget, size) is
 * checked here, purely, so packs can run the same checks.
 */
export const WIDGET_TYPES = ['TIME_SERIES', 'GAUGE', 'STAT', 'TABLE', 'MAP', 'ALERT_LIST', 'CAMERA_TILE'] as const;
export type WidgetType = (typeof WIDGET_TYPES)[number];

export const GRID_COLUMNS = 24;
export const GRID_ROWS = 200;
export const MAX_WIDGETS = 50;
/** The layout as JSON (UTF-8), what a stored document and every event carrying it may weigh. */
export const MAX_LAYOUT_BYTES = 65_536;

export type SeriesFunction = 'avg' | 'min' | 'max' | 'sum' | 'count' | 'first' | 'last';
export type ValueFunction = 'last' | 'first' | 'avg' | 'min' | 'max' | 'count' | 'stddev';

export interface WidgetPosition {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface WidgetBase<Type extends WidgetType, Config> {
  id: string;
  type: Type;
  title: string;
  position: WidgetPosition;
  config: Config;
}

export type DashboardWidget =
  | WidgetBase<'TIME_SERIES', { sensorIds: string[]; functions: SeriesFunction[]; bucket?: number }>
  | WidgetBase<'GAUGE' | 'STAT', { sensorId: string; function: ValueFunction; min?: number; max?: number }>
  | WidgetBase<'TABLE', { deviceIds?: string[]; groupId?: string; siteId?: string; sensorKey?: string }>
  | WidgetBase<'MAP', { siteId?: string; groupId?: string }>
  | WidgetBase<'ALERT_LIST', { status?: AlertStatus[]; severity?: AlertSeverity; siteId?: string; deviceId?: string; limit?: number }>
  | WidgetBase<'CAMERA_TILE', { deviceId: string; streamUrl?: string }>;

export interface DashboardLayout {
  widgets: DashboardWidget[];
}

export type ReferenceKind = 'sensor' | 'device' | 'site' | 'deviceGroup';

export interface LayoutReference {
  /** JSON pointer of the id, under the `at` given. */
  readonly path: string;
  readonly kind: ReferenceKind;
  readonly id: string;
}

const overlaps = (a: WidgetPosition, b: WidgetPosition): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** How many of these keys the config sets. */
const setCount = (config: object, keys: readonly string[]): number =>
  keys.filter((key) => (config as Record<string, unknown>)[key] !== undefined).length;

function configErrors(widget: DashboardWidget, at: string): FieldError[] {
  const config = widget.config;
  switch (widget.type) {
    case 'TABLE':
      return setCount(config, ['deviceIds', 'groupId', 'siteId']) === 1 ? [] : [{ path: at, message: 'must name exactly one of deviceIds, groupId, siteId' }];
    case 'MAP':
      return setCount(config, ['siteId', 'groupId']) === 1 ? [] : [{ path: at, message: 'must name exactly one of siteId, groupId' }];
    case 'ALERT_LIST':
      return setCount(config, ['siteId', 'deviceId']) <= 1 ? [] : [{ path: at, message: 'may name a siteId or a deviceId, not both' }];
    case 'GAUGE':
    case 'STAT': {
      const { min, max } = widget.config;
      return min !== undefined && max !== undefined && !(min < max) ? [{ path: `${at}/min`, message: 'must be below max' }] : [];
    }
    case 'TIME_SERIES':
    case 'CAMERA_TILE':
      return [];
    default:
      return assertNever(widget);
  }
}

/**
 * What is wrong with a layout beyond its schema, as JSON pointers under `at`
 * (e.g. `/body/layout`): empty when it is sound. Pure.
 */
export function layoutErrors(layout: DashboardLayout, at = '/body/layout'): FieldError[] {
  const errors: FieldError[] = [];
  if (layout.widgets.length > MAX_WIDGETS) errors.push({ path: `${at}/widgets`, message: `must hold at most ${MAX_WIDGETS} widgets` });
  layout.widgets.forEach((widget, index) => {
    const here = `${at}/widgets/${index}`;
    if (!(WIDGET_TYPES as readonly string[]).includes(widget.type)) {
      errors.push({ path: `${here}/type`, message: 'is not a widget type' });
      return;
    }
    const first = layout.widgets.findIndex((other) => other.id === widget.id);
    if (first < index) errors.push({ path: `${here}/id`, message: `is already the id of widget ${first}` });
    const { x, y, w, h } = widget.position;
    if (x + w > GRID_COLUMNS) errors.push({ path: `${here}/position`, message: `extends past column ${GRID_COLUMNS} (x + w > ${GRID_COLUMNS})` });
    if (y + h > GRID_ROWS) errors.push({ path: `${here}/position`, message: `extends past row ${GRID_ROWS} (y + h > ${GRID_ROWS})` });
    const hit = layout.widgets.findIndex((other, j) => j < index && overlaps(other.position, widget.position));
    if (hit >= 0) errors.push({ path: `${here}/position`, message: `overlaps widget ${hit}` });
    errors.push(...configErrors(widget, `${here}/config`));
  });
  return errors;
}

export function layoutBytes(layout: DashboardLayout): number {
  return Buffer.byteLength(JSON.stringify(layout), 'utf8');
}

/** The error a layout deserves, if any: 413 when too large, else 422 naming each fault. */
export function layoutProblem(layout: DashboardLayout, at = '/body/layout'): AppError | undefined {
  const bytes = layoutBytes(layout);
  if (bytes > MAX_LAYOUT_BYTES) {
    return new AppError('PAYLOAD_TOO_LARGE', `The layout is ${bytes} bytes of JSON; the limit is ${MAX_LAYOUT_BYTES}.`, [
      { path: at, message: `must be at most ${MAX_LAYOUT_BYTES} bytes of JSON` },
    ]);
  }
  const errors = layoutErrors(layout, at);
  return errors.length > 0 ? new AppError('UNPROCESSABLE', 'The dashboard layout is inconsistent.', errors) : undefined;
}

/** Every id the layout names, with its pointer under `at` and its kind. Pure; for a layout that passed `layoutErrors`. */
export function layoutReferences(layout: DashboardLayout, at = '/body/layout'): LayoutReference[] {
  return layout.widgets.flatMap((widget, index): LayoutReference[] => {
    const here = `${at}/widgets/${index}/config`;
    const one = (kind: ReferenceKind, key: string, id: string | undefined): LayoutReference[] => (id === undefined ? [] : [{ path: `${here}/${key}`, kind, id }]);
    const many = (kind: ReferenceKind, key: string, ids: readonly string[] | undefined): LayoutReference[] =>
      (ids ?? []).map((id, i) => ({ path: `${here}/${key}/${i}`, kind, id }));
    switch (widget.type) {
      case 'TIME_SERIES':
        return many('sensor', 'sensorIds', widget.config.sensorIds);
      case 'GAUGE':
      case 'STAT':
        return one('sensor', 'sensorId', widget.config.sensorId);
      case 'TABLE':
        return [...many('device', 'deviceIds', widget.config.deviceIds), ...one('deviceGroup', 'groupId', widget.config.groupId), ...one('site', 'siteId', widget.config.siteId)];
      case 'MAP':
        return [...one('site', 'siteId', widget.config.siteId), ...one('deviceGroup', 'groupId', widget.config.groupId)];
      case 'ALERT_LIST':
        return [...one('site', 'siteId', widget.config.siteId), ...one('device', 'deviceId', widget.config.deviceId)];
      case 'CAMERA_TILE':
        return one('device', 'deviceId', widget.config.deviceId);
      default:
        return assertNever(widget);
    }
  });
}

const ID_KEYS = new Set(['sensorIds', 'sensorId', 'deviceIds', 'deviceId', 'groupId', 'siteId']);
const lower = (value: unknown): unknown => (typeof value === 'string' ? value.toLowerCase() : value);

/** The layout with every id in lower case, as Postgres answers uuids, so stored documents compare and echo alike. */
export function withLowercaseIds(layout: DashboardLayout): DashboardLayout {
  return {
    ...layout,
    widgets: layout.widgets.map((widget) => {
      const config = Object.entries(widget.config).map(([key, value]) => [key, ID_KEYS.has(key) ? (Array.isArray(value) ? value.map(lower) : lower(value)) : value]);
      return { ...widget, config: Object.fromEntries(config) } as DashboardWidget;
    }),
  };
}
