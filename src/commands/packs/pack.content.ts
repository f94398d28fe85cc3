import { createHash } from 'node:crypto';
import type { AlertRuleFields } from '../alert-rules/alert-rule.decider';
import { canonicalJson } from '../config-artefacts/config-artefact.content';
import type { ComponentKind } from '../components/component.decider';
import type { SensorProfileFields } from '../sensor-profiles/sensor-profile.decider';
import { dashboardDocumentErrors } from '../dashboards/dashboard.decider';
import type { DashboardLayout, DashboardWidget } from '../dashboards/dashboard.layout';
import { AppError, type FieldError } from '../../platform/errors';

/** Every item of a pack has a key, unique within its kind: installations and upgrades match items by it. */
interface Keyed {
  key: string;
}

export type PackSensorProfile = Keyed & Omit<SensorProfileFields, 'description' | 'validRange' | 'expectedIntervalSeconds' | 'precision'> & Partial<SensorProfileFields>;

export interface PackDeviceProfile extends Keyed {
  name: string;
  description?: string | null;
  expectedComponents?: { key: string; kind: ComponentKind }[];
  /** `sensorProfileKey` names a sensor profile of the same pack. */
  expectedSensors?: { key: string; sensorProfileKey?: string | null; unit?: string | null }[];
  defaultConfig?: Record<string, unknown>;
}

/** An alert rule template: installed as a rule whose scope is the installation's target. */
export type PackAlertRule = Keyed &
  Pick<AlertRuleFields, 'name' | 'conditions'> &
  Partial<Pick<AlertRuleFields, 'description' | 'severity' | 'sensorKey' | 'operator' | 'forSeconds' | 'hysteresis'>>;

/** A config artefact, bound (latest version) to the installation's target. */
export interface PackConfigArtefact extends Keyed {
  name: string;
  description?: string | null;
  content: Record<string, unknown>;
  schema?: Record<string, unknown> | null;
  priority?: number;
}

/**
 * A dashboard shared with the organization. Its widgets are the kinds that
 * need no ids — TABLE, MAP, ALERT_LIST — without a scope: installing gives
 * each the installation's target (a site, or for TABLE and MAP a device group).
 */
export interface PackDashboard extends Keyed {
  name: string;
  description?: string | null;
  layout: DashboardLayout;
}

export interface PackContent {
  sensorProfiles?: PackSensorProfile[];
  deviceProfiles?: PackDeviceProfile[];
  alertRules?: PackAlertRule[];
  configArtefacts?: PackConfigArtefact[];
  dashboards?: PackDashboard[];
}

export const PACK_KINDS = ['sensorProfiles', 'deviceProfiles', 'alertRules', 'configArtefacts', 'dashboards'] as const;

const TARGET_WIDGETS: readonly string[] = ['TABLE', 'MAP', 'ALERT_LIST'];
const SCOPE_KEYS = ['sensorIds', 'sensorId', 'deviceIds', 'deviceId', 'groupId', 'siteId'];

/** A pack dashboard's layout with the installation's target as every widget's scope. */
export function targetedLayout(layout: DashboardLayout, targetType: 'SITE' | 'DEVICE_GROUP', targetId: string): DashboardLayout {
  return {
    widgets: layout.widgets.map((widget) => {
      if (widget.type === 'ALERT_LIST') return targetType === 'SITE' ? { ...widget, config: { ...widget.config, siteId: targetId } } : widget;
      if (widget.type === 'TABLE' || widget.type === 'MAP') return { ...widget, config: { ...widget.config, ...(targetType === 'SITE' ? { siteId: targetId } : { groupId: targetId }) } } as DashboardWidget;
      return widget;
    }),
  };
}

function dashboardErrors(dashboard: PackDashboard, at: string): FieldError[] {
  const errors: FieldError[] = [];
  dashboard.layout.widgets.forEach((widget, i) => {
    if (!TARGET_WIDGETS.includes(widget.type)) errors.push({ path: `${at}/layout/widgets/${i}/type`, message: 'a pack dashboard takes TABLE, MAP and ALERT_LIST widgets only' });
    const scoped = SCOPE_KEYS.filter((key) => key in (widget.config as Record<string, unknown>));
    if (scoped.length > 0) errors.push({ path: `${at}/layout/widgets/${i}/config`, message: `names no ids (${scoped.join(', ')}): installing scopes it to the target` });
  });
  if (errors.length > 0) return errors;
  // The rest as a dashboard would be checked once installed on a site.
  return dashboardDocumentErrors({ layout: targetedLayout(dashboard.layout, 'SITE', '00000000-0000-4000-8000-000000000000') }, at);
}
export type PackKind = (typeof PACK_KINDS)[number];

/** The serialised size limit of a pack version. */
export const MAX_PACK_BYTES = 256 * 1024;

/** SHA-256 of an item's canonical JSON: an upgrade changes an installed resource only when its item's hash changed. */
export function itemHash(item: unknown): string {
  return createHash('sha256').update(canonicalJson(item)).digest('hex');
}

/**
 * Checks what the JSON Schema cannot: size, keys unique per kind, and
 * device profiles naming sensor profiles of the same pack.
 */
export function checkPackContent(content: PackContent): void {
  const errors: FieldError[] = [];
  if (Buffer.byteLength(canonicalJson(content), 'utf8') > MAX_PACK_BYTES) {
    throw new AppError('PAYLOAD_TOO_LARGE', `A pack version is at most ${MAX_PACK_BYTES} bytes as JSON.`, [{ path: '/body/content', message: 'too large' }]);
  }
  for (const kind of PACK_KINDS) {
    const seen = new Set<string>();
    (content[kind] ?? []).forEach((item, i) => {
      if (seen.has(item.key)) errors.push({ path: `/body/content/${kind}/${i}/key`, message: `duplicates key ${item.key}` });
      seen.add(item.key);
    });
  }
  const profiles = new Set((content.sensorProfiles ?? []).map((p) => p.key));
  (content.deviceProfiles ?? []).forEach((profile, i) => {
    (profile.expectedSensors ?? []).forEach((sensor, j) => {
      if (sensor.sensorProfileKey && !profiles.has(sensor.sensorProfileKey)) {
        errors.push({ path: `/body/content/deviceProfiles/${i}/expectedSensors/${j}/sensorProfileKey`, message: 'names no sensor profile of the pack' });
      }
    });
  });
  (content.dashboards ?? []).forEach((dashboard, i) => errors.push(...dashboardErrors(dashboard, `/body/content/dashboards/${i}`)));
  (content.alertRules ?? []).forEach((rule, i) => {
    const noData = rule.conditions.some((c) => c.type === 'NO_DATA');
    if (noData && rule.conditions.length > 1) errors.push({ path: `/body/content/alertRules/${i}/conditions`, message: 'NO_DATA cannot be combined with other conditions' });
  });
  if (errors.length > 0) throw new AppError('UNPROCESSABLE', 'The pack content is inconsistent.', errors);
}
