import { randomUUID } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import { alertRuleDecider } from '../../commands/alert-rules/alert-rule.decider';
import { alertCommands } from '../../commands/alerts/alert.handler';
import { ALERT_EVENT_TYPES, type AlertRaised, type AlertResolved } from '../../commands/alerts/alert.events';
import type { CommandContext } from '../../commands/decider';
import { DEVICE_GROUP_EVENT_TYPES } from '../../commands/device-groups/device-group.decider';
import { deviceDecider } from '../../commands/devices/device.decider';
import { sensorDecider } from '../../commands/sensors/sensor.decider';
import type { CheckpointWatcher } from '../../platform/checkpoints/checkpoint-watcher';
import { PositionTracker } from '../../platform/checkpoints/position-tracker';
import type { Pool } from '../../platform/db/pool';
import { asWriter } from '../../platform/db/roles';
import { START, comparePositions, type EventStore, type Position, type RecordedEvent, type Subscription } from '../../platform/event-store/event-store.port';
import type { Logger } from '../../platform/logger';
import { untilItSucceeds } from '../readings/retry';
import { scopedRules, type ScopedRule } from './alert-rule-scope';
import { describe, evaluateReading, freshState, type RuleSensorState } from './rule-conditions';

/** The read models the index is built from, and the events that change it. */
const INDEX_READ_MODELS = ['alert-rules', 'sensors', 'devices', 'device-groups', 'alerts'];
const INDEX_INPUTS: readonly string[] = [...alertRuleDecider.eventTypes, ...sensorDecider.eventTypes, ...deviceDecider.eventTypes, ...DEVICE_GROUP_EVENT_TYPES];
const RESUBSCRIBE_AFTER_MS = 1000;

/** Rules judged reading by reading (NO_DATA rules are the absence check's). */
const STREAMING = `NOT (r.conditions @> '[{"type": "NO_DATA"}]'::jsonb)`;

const keyOf = (ruleId: string, sensorId: string): string => `${ruleId}:${sensorId}`;

/** A rule watching a sensor, with its state: what the hot path needs in one lookup. */
interface Watch {
  readonly rule: ScopedRule;
  readonly key: string;
  readonly state: RuleSensorState;
}

/**
 * Streaming rule evaluation in the ingest path. An in-memory index maps
 * each sensor to the enabled rules that apply to it, so a reading costs one
 * map lookup when no rule watches its sensor and O(rules of the sensor)
 * otherwise. The index is rebuilt from the read models when a rule, sensor,
 * device or group changes, and alert events keep each (rule, sensor)'s
 * "open" flag current across processes. Transitions (raise, resolve) run
 * off the hot path, in order per (rule, sensor), as commands on the alert
 * stream; its expected revision makes a raise exactly-once even when
 * several ingesters see the same condition.
 */
export class AlertEvaluator {
  private bySensor = new Map<string, Watch[]>();
  private states = new Map<string, RuleSensorState>();
  private readonly chains = new Map<string, Promise<void>>();
  private subscription: Subscription | undefined;
  private following: Promise<void> | undefined;
  private stopped = false;
  private readonly transitions: Counter;
  private readonly indexed = new PositionTracker();

  constructor(
    private readonly pool: Pool,
    private readonly store: EventStore,
    private readonly watcher: CheckpointWatcher,
    private readonly log: Logger,
    registry?: Registry,
  ) {
    this.transitions = new Counter({
      name: 'iotplane_alert_transitions_total',
      help: 'Alert transitions decided by streaming evaluation (raise, resolve).',
      labelNames: ['transition'],
      registers: registry ? [registry] : [],
    });
  }

  /**
   * Loads the index from the read models as they are — never waiting for
   * them, so ingest starts even while the projectors are down — and follows
   * the log from the oldest of their checkpoints, so whatever they had not
   * applied yet reaches the index once they have.
   */
  async start(): Promise<void> {
    await this.watcher.start();
    const positions = INDEX_READ_MODELS.map((name) => this.watcher.position(name) ?? START);
    const from = positions.reduce((a, b) => (comparePositions(a, b) <= 0 ? a : b));
    await this.load();
    this.indexed.advance(from);
    this.following = this.follow(from);
  }

  /** Resolves true once the index includes every change up to `position`. */
  caughtUp(position: Position, timeoutMs: number): Promise<boolean> {
    return this.indexed.reached(position, timeoutMs);
  }

  /** The hot path: a reading about to be stored. */
  observe(sensorId: string, ts: string, tsMs: number, value: number): void {
    const watches = this.bySensor.get(sensorId);
    if (watches === undefined) return;
    for (const { rule, key, state } of watches) {
      const transition = evaluateReading(rule, state, tsMs, value);
      if (transition === 'RAISE') this.act(key, rule, 'raise', () => this.raise(rule, { ts, value }));
      else if (transition === 'RESOLVE') this.act(key, rule, 'resolve', () => this.resolve(rule, { ts, value }));
    }
  }

  /** Every transition decided so far is stored. */
  async drain(): Promise<void> {
    while (this.chains.size > 0) await Promise.all(this.chains.values());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close();
    await this.following;
    await this.drain();
  }

  private context(rule: ScopedRule): CommandContext {
    return { orgId: rule.orgId, actor: 'system', correlationId: randomUUID() };
  }

  private async raise(rule: ScopedRule, reading: { ts: string; value: number }): Promise<void> {
    const facts = { id: randomUUID(), ruleId: rule.ruleId, ruleName: rule.name, severity: rule.severity, sensorId: rule.sensorId, deviceId: rule.deviceId, channelIds: rule.channelIds };
    await alertCommands.raise(this.store, this.context(rule), rule.ruleId, rule.sensorId, { facts, message: describe(rule, reading.value), reading, now: new Date().toISOString() });
  }

  private async resolve(rule: ScopedRule, reading: { ts: string; value: number }): Promise<void> {
    await alertCommands.resolve(this.store, this.context(rule), rule.ruleId, rule.sensorId, { reason: 'CLEARED', reading, now: new Date().toISOString() });
  }

  private act(key: string, rule: ScopedRule, transition: 'raise' | 'resolve', step: () => Promise<void>): void {
    this.transitions.inc({ transition });
    const next = (this.chains.get(key) ?? Promise.resolve()).then(() =>
      untilItSucceeds(step, (err, attempt, retryInMs) => this.log.warn({ err, ruleId: rule.ruleId, sensorId: rule.sensorId, attempt, retryInMs }, 'alert transition failed; retrying')),
    );
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** Rebuilds the index once the read models include `position`. */
  private async reload(position: Position): Promise<void> {
    while (!(await this.watcher.waitFor(INDEX_READ_MODELS, position, 10_000))) {
      if (this.stopped) return;
      this.log.warn('read models are behind; the alert rule index waits');
    }
    await this.load();
  }

  /** The index from the read models; states of (rule, sensor) pairs that remain are kept. */
  private async load(): Promise<void> {
    const { rules, open } = await asWriter(this.pool, async (tx) => ({
      rules: await scopedRules(tx, STREAMING),
      open: new Set((await tx.query<{ key: string }>(`SELECT rule_id || ':' || sensor_id AS key FROM alerts WHERE status <> 'RESOLVED'`)).rows.map((r) => r.key)),
    }));
    const bySensor = new Map<string, Watch[]>();
    const states = new Map<string, RuleSensorState>();
    for (const rule of rules) {
      const key = keyOf(rule.ruleId, rule.sensorId);
      const state = this.states.get(key) ?? freshState();
      state.open = open.has(key);
      states.set(key, state);
      bySensor.set(rule.sensorId, [...(bySensor.get(rule.sensorId) ?? []), { rule, key, state }]);
    }
    this.bySensor = bySensor;
    this.states = states;
  }

  private noteAlert(event: RecordedEvent): void {
    const data = event.data as AlertRaised['data'] | AlertResolved['data'];
    const state = this.states.get(keyOf(data.ruleId, data.sensorId));
    if (!state) return;
    if (event.type === 'AlertRaised') state.open = true;
    else if (event.type === 'AlertResolved') state.open = false;
  }

  private async follow(from: Position): Promise<void> {
    let position = from;
    while (!this.stopped) {
      try {
        const subscription = this.store.subscribeToAll({ fromPosition: position, filter: { eventTypes: [...INDEX_INPUTS, ...ALERT_EVENT_TYPES] } });
        this.subscription = subscription;
        for await (const batch of subscription) {
          position = batch.checkpoint;
          if (batch.events.some((e) => INDEX_INPUTS.includes(e.type))) await this.reload(batch.checkpoint);
          else for (const event of batch.events) this.noteAlert(event);
          this.indexed.advance(batch.checkpoint);
        }
        return; // closed by stop()
      } catch (err) {
        if (this.stopped) return;
        this.log.warn({ err }, 'alert evaluator lost its event subscription; following again');
        await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_AFTER_MS));
      }
    }
  }
}
