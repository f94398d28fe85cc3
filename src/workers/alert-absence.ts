import { randomUUID } from 'node:crypto';
import cron from 'node-cron';
import type { AlertRuleFields } from '../commands/alert-rules/alert-rule.decider';
import { alertCommands } from '../commands/alerts/alert.handler';
import type { Pool } from '../platform/db/pool';
import { asWriter } from '../platform/db/roles';
import type { EventStore } from '../platform/event-store/event-store.port';
import type { Logger } from '../platform/logger';
import { ruleAppliesTo } from '../ingest/alerts/alert-rule-scope';
import { describe } from '../ingest/alerts/rule-conditions';

export interface AlertAbsenceOptions {
  readonly pool: Pool;
  readonly store: EventStore;
  readonly log: Logger;
  /** node-cron expression with seconds (default: every 30 s). */
  readonly schedule?: string;
}

export interface AbsenceReport {
  readonly checked: number;
  readonly raised: number;
  readonly resolved: number;
}

export interface AlertAbsence {
  /** One check as of `now` (default: the clock). */
  runOnce(now?: Date): Promise<AbsenceReport>;
  stop(): Promise<void>;
}

interface Row {
  org_id: string;
  rule_id: string;
  name: string;
  severity: AlertRuleFields['severity'];
  channel_ids: string[];
  conditions: AlertRuleFields['conditions'];
  sensor_id: string;
  device_id: string;
  silent: boolean;
  last_ts: Date | null;
  last_value: number | null;
  open: boolean;
}

/**
 * Every (NO_DATA rule, sensor) pair with its newest reading inside the
 * rule's window, whether it has been watched for a whole window (a rule or
 * sensor created a moment ago is not silent yet), and whether an alert is open.
 */
const PAIRS = `
  SELECT r.org_id, r.id AS rule_id, r.name, r.severity, r.channel_ids, r.conditions, s.id AS sensor_id, d.id AS device_id,
         GREATEST(r.updated_at, s.created_at) <= $1::timestamptz - make_interval(secs => (r.conditions->0->>'seconds')::int) AS silent,
         last.ts AS last_ts, last.value AS last_value,
         EXISTS (SELECT 1 FROM alerts a WHERE a.org_id = r.org_id AND a.rule_id = r.id AND a.sensor_id = s.id AND a.status <> 'RESOLVED') AS open
    FROM alert_rules r
    JOIN sensors s ON s.org_id = r.org_id
    JOIN devices d ON d.org_id = s.org_id AND d.id = s.device_id
    LEFT JOIN LATERAL (
      SELECT x.ts, x.value FROM readings x
       WHERE x.sensor_id = s.id AND x.ts > $1::timestamptz - make_interval(secs => (r.conditions->0->>'seconds')::int)
       ORDER BY x.ts DESC LIMIT 1) last ON true
   WHERE r.enabled AND r.conditions @> '[{"type": "NO_DATA"}]'::jsonb AND ${ruleAppliesTo('r', 's', 'd')}`;

/**
 * NO_DATA rules, judged on a schedule rather than per reading: a sensor in
 * scope with no reading for the rule's `seconds` raises an alert (no
 * triggering reading); once a reading arrives the alert resolves with it
 * (DATA_RECEIVED). Several workers may run it: the alert streams' expected
 * revisions keep every raise and resolve exactly-once.
 */
export function startAlertAbsence(options: AlertAbsenceOptions): AlertAbsence {
  const { pool, store, log } = options;

  const runOnce = async (at = new Date()): Promise<AbsenceReport> => {
    const { rows } = await asWriter(pool, (tx) => tx.query<Row>(PAIRS, [at]));
    let raised = 0;
    let resolved = 0;
    const now = at.toISOString();
    for (const row of rows) {
      const ctx = { orgId: row.org_id, actor: 'system' as const, correlationId: randomUUID() };
      if (!row.open && row.last_ts === null && row.silent) {
        const facts = { id: randomUUID(), ruleId: row.rule_id, ruleName: row.name, severity: row.severity, sensorId: row.sensor_id, deviceId: row.device_id, channelIds: row.channel_ids };
        const message = describe({ operator: 'AND', conditions: row.conditions, forSeconds: 0, hysteresis: 0 }, null);
        const result = await alertCommands.raise(store, ctx, row.rule_id, row.sensor_id, { facts, message, reading: null, now });
        raised += result.events.length;
      } else if (row.open && row.last_ts !== null && row.last_value !== null) {
        const reading = { ts: row.last_ts.toISOString(), value: row.last_value };
        const result = await alertCommands.resolve(store, ctx, row.rule_id, row.sensor_id, { reason: 'DATA_RECEIVED', reading, now });
        resolved += result.events.length;
      }
    }
    return { checked: rows.length, raised, resolved };
  };

  let current: Promise<void> = Promise.resolve();
  const runLogged = (): Promise<void> => {
    current = runOnce(new Date()).then(
      (report) => {
        if (report.raised + report.resolved > 0) log.info(report, 'no-data alerts checked');
      },
      (err: unknown) => log.error({ err }, 'no-data alert check failed'),
    );
    return current;
  };
  const task = cron.schedule(options.schedule ?? '*/30 * * * * *', runLogged, { noOverlap: true, name: 'alert-absence' });
  return {
    runOnce,
    async stop() {
      await task.destroy();
      await current;
    },
  };
}
