import { inGroup } from '../../api/routes/device-groups.queries';
import type { Queryable } from '../../platform/db/pool';
import type { AlertRuleFields } from '../../commands/alert-rules/alert-rule.decider';

/** SQL: rule `r` applies to sensor `s` of device `d` (a live device; the group test is the one membership SQL). */
export function ruleAppliesTo(r: string, s: string, d: string): string {
  return `${d}.status <> 'DECOMMISSIONED' AND (${r}.sensor_key IS NULL OR ${s}.key = ${r}.sensor_key) AND (
       (${r}.scope_type = 'SENSOR' AND ${s}.id = ${r}.scope_id)
    OR (${r}.scope_type = 'DEVICE' AND ${d}.id = ${r}.scope_id)
    OR (${r}.scope_type = 'SITE' AND ${d}.site_id = ${r}.scope_id)
    OR (${r}.scope_type = 'SENSOR_PROFILE' AND ${s}.sensor_profile_id = ${r}.scope_id)
    OR (${r}.scope_type = 'DEVICE_GROUP' AND ${inGroup(d, `${r}.scope_id`)}))`;
}

/** A rule as evaluation needs it, with the sensor it applies to. */
export interface ScopedRule extends Pick<AlertRuleFields, 'name' | 'severity' | 'operator' | 'conditions' | 'forSeconds' | 'hysteresis' | 'channelIds'> {
  readonly orgId: string;
  readonly ruleId: string;
  readonly version: number;
  readonly sensorId: string;
  readonly deviceId: string;
}

interface Row {
  org_id: string;
  id: string;
  version: number;
  name: string;
  severity: ScopedRule['severity'];
  operator: ScopedRule['operator'];
  conditions: ScopedRule['conditions'];
  for_seconds: number;
  hysteresis: number;
  channel_ids: string[];
  sensor_id: string;
  device_id: string;
}

/** Every enabled rule with every sensor it applies to (the caller's role decides which organizations); `where` narrows the rules. */
export async function scopedRules(db: Queryable, where = 'TRUE', params: unknown[] = []): Promise<ScopedRule[]> {
  const { rows } = await db.query<Row>(
    `SELECT r.org_id, r.id, r.version, r.name, r.severity, r.operator, r.conditions, r.for_seconds, r.hysteresis, r.channel_ids,
            s.id AS sensor_id, d.id AS device_id
       FROM alert_rules r
       JOIN sensors s ON s.org_id = r.org_id
       JOIN devices d ON d.org_id = s.org_id AND d.id = s.device_id
      WHERE r.enabled AND (${where}) AND ${ruleAppliesTo('r', 's', 'd')}`,
    params,
  );
  return rows.map((r) => ({
    orgId: r.org_id,
    ruleId: r.id,
    version: r.version,
    name: r.name,
    severity: r.severity,
    operator: r.operator,
    conditions: r.conditions,
    forSeconds: r.for_seconds,
    hysteresis: r.hysteresis,
    channelIds: r.channel_ids,
    sensorId: r.sensor_id,
    deviceId: r.device_id,
  }));
}
