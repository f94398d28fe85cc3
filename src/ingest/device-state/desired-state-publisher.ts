import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { Counter, type Registry } from 'prom-client';
import { desiredStateStream, type DesiredStatePublished } from '../../commands/desired-state/device-state.events';
import { findDesiredState } from '../../api/routes/desired-state.queries';
import { advanceCheckpoint, readCheckpoint } from '../../platform/checkpoints/checkpoints';
import type { CheckpointWatcher } from '../../platform/checkpoints/checkpoint-watcher';
import { PositionTracker } from '../../platform/checkpoints/position-tracker';
import type { Pool } from '../../platform/db/pool';
import { asWriter, withTenant } from '../../platform/db/roles';
import { comparePositions, type EventStore, type Position, type RecordedEvent, type Subscription } from '../../platform/event-store/event-store.port';
import type { Logger } from '../../platform/logger';
import { deviceTopic } from '../../platform/mqtt/topics';
import { DESIRED_STATE_INPUTS, affectedDevices } from './affected-devices';

/** Its checkpoint's name in projection_checkpoints (it follows the log as a projector does). */
export const PUBLISHER_NAME = 'desired-state-publisher';
/** The read models the publisher computes from: it waits for them to include each event. */
const READ_MODELS = ['devices', 'device-groups', 'desired-state-bindings', 'config-artefacts', 'device-states'];
const RETRY_AFTER_MS = 1000;
const PARALLEL_DEVICES = 4;

export interface DesiredStatePublisherOptions {
  readonly client: MqttClient;
  readonly pool: Pool;
  readonly store: EventStore;
  readonly watcher: CheckpointWatcher;
  readonly log: Logger;
  readonly registry?: Registry;
  readonly now?: () => Date;
}

export interface DesiredStatePublisher {
  /** Publishes the device's desired state if it changed; `republish` sends the current one again even if not. */
  sync(orgId: string, deviceId: string, republish?: boolean): Promise<void>;
  /** Resolves once every input event up to `position` is handled. */
  caughtUp(position: Position, timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Publishes each device's desired state, retained, on devices/{id}/desired,
 * to exactly the devices whose merged state changed. It follows the events
 * that can change one (artefact versions, bindings, group membership and
 * selectors, devices), recomputes the affected devices from the read models
 * and compares with the last DesiredStatePublished in the device's stream.
 *
 * Per device, under a transaction advisory lock: compute, publish (QoS 1,
 * retained; resolved on the broker's PUBACK), then append the event with
 * the expected revision. A crash between the two leaves a published but
 * unrecorded version, which the next run publishes again and records; two
 * publishers serialise on the lock and the second finds nothing to do.
 * At start every recorded state is published again, since a broker may have
 * lost its retained messages (the embedded one keeps them in memory).
 */
export function startDesiredStatePublisher(options: DesiredStatePublisherOptions): DesiredStatePublisher {
  const { client, pool, store, watcher, log } = options;
  const now = options.now ?? (() => new Date());
  const published = new Counter({
    name: 'iotplane_desired_state_published_total',
    help: 'Desired states published to devices, by kind (changed, republished).',
    labelNames: ['kind'],
    registers: options.registry ? [options.registry] : [],
  });
  let stopped = false;
  let subscription: Subscription | undefined;
  const handled = new PositionTracker();
  let lastAppend: Position | undefined;

  const sync = async (orgId: string, deviceId: string, republish = false): Promise<void> => {
    await withTenant(pool, orgId, async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('desired-state:' || $1, 0))", [deviceId]);
      const state = await findDesiredState(tx, deviceId);
      if (!state) return;
      const stream = desiredStateStream(deviceId);
      const [last] = await store.readStream(stream, { direction: 'backwards', fromRevision: 'end', maxCount: 1 });
      const previous = last?.data as DesiredStatePublished['data'] | undefined;
      const changed = previous ? previous.version !== state.version : state.sources.length > 0;
      if (!changed && !(republish && previous)) return;
      const publishedAt = changed ? now().toISOString() : (previous?.publishedAt ?? now().toISOString());
      const payload = JSON.stringify({ version: state.version, state: state.desired, publishedAt });
      await client.publishAsync(deviceTopic(deviceId, 'desired'), payload, { qos: 1, retain: true });
      published.inc({ kind: changed ? 'changed' : 'republished' });
      if (!changed) return;
      const data: DesiredStatePublished['data'] = { deviceId, version: state.version, desired: state.desired, sources: state.sources, publishedAt };
      const metadata = { orgId, actor: 'system' as const, correlationId: randomUUID(), causationId: null, schemaVersion: 1 };
      const appended = await store.appendToStream(stream, [{ id: randomUUID(), type: 'DesiredStatePublished', data, metadata }], {
        expectedRevision: last?.revision ?? 'no_stream',
      });
      if (!lastAppend || comparePositions(appended.position, lastAppend) > 0) lastAppend = appended.position;
    });
  };

  const handle = async (events: readonly RecordedEvent[], upTo: Position): Promise<void> => {
    // The read models must include the batch, and the publisher's own last record (its sources find devices that left).
    const waits = lastAppend && comparePositions(lastAppend, upTo) > 0 ? [upTo, lastAppend] : [upTo];
    for (const position of waits) {
      while (!(await watcher.waitFor(READ_MODELS, position, 10_000))) {
        if (stopped) return;
        log.warn({ position: `${position.commit}` }, 'read models are behind; the desired-state publisher waits');
      }
    }
    const devices = new Map<string, string>();
    for (const event of events) {
      const orgId = event.metadata.orgId;
      if (!orgId) continue;
      for (const deviceId of await withTenant(pool, orgId, (tx) => affectedDevices(tx, event))) devices.set(deviceId, orgId);
    }
    await forEachLimited([...devices], PARALLEL_DEVICES, ([deviceId, orgId]) => sync(orgId, deviceId));
  };

  const republishAll = async (): Promise<void> => {
    const { rows } = await asWriter(pool, (tx) =>
      tx.query<{ org_id: string; device_id: string }>('SELECT org_id, device_id FROM device_states WHERE desired_version IS NOT NULL'),
    );
    await forEachLimited(rows, PARALLEL_DEVICES, (row) => sync(row.org_id, row.device_id, true));
    log.info({ devices: rows.length }, 'desired states published again after start');
  };

  const follow = async (): Promise<void> => {
    let republished = false;
    while (!stopped) {
      try {
        let from = await readCheckpoint(pool, PUBLISHER_NAME);
        if (!republished) {
          await republishAll();
          republished = true;
        }
        subscription = store.subscribeToAll({ fromPosition: from, filter: { eventTypes: DESIRED_STATE_INPUTS } });
        for await (const batch of subscription) {
          if (batch.events.length > 0) {
            await handle(batch.events, batch.checkpoint);
            if (!(await advanceCheckpoint(pool, PUBLISHER_NAME, from, batch.checkpoint, batch.events.length))) {
              // Another publisher moved it; both have published what changed, so carry on from the stored one.
              from = await readCheckpoint(pool, PUBLISHER_NAME);
            } else from = batch.checkpoint;
          }
          handled.advance(batch.checkpoint);
        }
        return; // closed by stop()
      } catch (err) {
        if (stopped) return;
        log.error({ err }, 'desired-state publisher failed; following again from its checkpoint');
        await subscription?.close().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_MS));
      }
    }
  };
  const following = follow();

  return {
    sync,
    caughtUp: (position, timeoutMs) => handled.reached(position, timeoutMs),
    async stop() {
      stopped = true;
      await subscription?.close();
      await following;
      if (options.registry) options.registry.removeSingleMetric('iotplane_desired_state_published_total');
    },
  };
}
