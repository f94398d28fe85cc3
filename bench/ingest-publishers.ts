import { performance } from 'node:perf_hooks';
import type { MqttClient } from 'mqtt';
import { deviceTopic } from '../src/platform/mqtt/topics';
import type { Workload } from './ingest-workload';
import { percentile } from './raw-sql';

export interface PublishFigures {
  /** Messages and readings of the timed part (every device's seq 2 onwards). */
  readonly messages: number;
  readonly readings: number;
  /** First timed publish to the last confirmation. */
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly readingsPerSecond: number;
  /** Publish → a confirmation covering the message, milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Every device's first message, sent and confirmed before the clock starts. */
  readonly primeSeconds: number;
}

/** A run's figures and its latencies (milliseconds, in no particular order), to combine runs. */
export interface PublishResult {
  readonly figures: PublishFigures;
  readonly latencies: readonly number[];
}

function figuresOf(messages: number, readings: number, seconds: number, primeSeconds: number, latencies: readonly number[]): PublishFigures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    messages,
    readings,
    seconds,
    messagesPerSecond: messages / seconds,
    readingsPerSecond: readings / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    primeSeconds,
  };
}

/** Several runs as one: everything they moved over all the time they took, latencies pooled. */
export function combineResults(results: readonly PublishResult[]): PublishFigures {
  const sum = (pick: (f: PublishFigures) => number): number => results.reduce((total, r) => total + pick(r.figures), 0);
  return figuresOf(sum((f) => f.messages), sum((f) => f.readings), sum((f) => f.seconds), sum((f) => f.primeSeconds), results.flatMap((r) => r.latencies));
}

interface DeviceRun {
  next: number;
  confirmed: number;
  readonly sentAt: Float64Array;
}

interface Run {
  readonly workload: Workload;
  readonly window: number;
  readonly devices: DeviceRun[];
  readonly latencies: number[];
  timed: boolean;
  remaining: number;
  lastProgress: number;
  readonly settle: () => void;
  readonly fail: (error: Error) => void;
}

/**
 * The bench's devices, one plain MQTT.js connection each (device
 * certificate, QoS 1), subscribed to their `devices/{id}/readings/committed`
 * confirmations. A run publishes a workload closed-loop: each device keeps
 * at most `window` messages unconfirmed, as a device keeps what the
 * platform has not confirmed, so neither the broker's queues nor the
 * ingester's buffer grow without bound and the figures are a steady state.
 */
export class PublisherFleet {
  private run: Run | undefined;

  constructor(private readonly clients: readonly { readonly deviceId: string; readonly client: MqttClient }[]) {
    clients.forEach(({ deviceId, client }, index) => {
      const committed = deviceTopic(deviceId, 'readings/committed');
      client.on('message', (topic, payload) => {
        if (topic !== committed) return;
        const seq = (JSON.parse(payload.toString()) as { seq?: unknown }).seq;
        if (typeof seq === 'number') this.confirm(index, seq);
      });
      client.on('close', () => this.run?.fail(new Error(`publisher ${deviceId} lost its connection`)));
    });
  }

  static async subscribe(clients: readonly { readonly deviceId: string; readonly client: MqttClient }[]): Promise<PublisherFleet> {
    const fleet = new PublisherFleet(clients);
    await Promise.all(clients.map(({ deviceId, client }) => client.subscribeAsync(deviceTopic(deviceId, 'readings/committed'), { qos: 1 })));
    return fleet;
  }

  /**
   * Sends every device's seq 1 and waits for its confirmation, then times
   * seq 2…last. Fails when no confirmation arrives for `stallMs`. The first
   * message loads the device into the ingester's sensor directory and
   * creates its sequence bookkeeping, so the timed part sees devices the
   * platform already knows, as in a steady state.
   */
  async publish(workload: Workload, window: number, stallMs: number, progress: (line: string) => void): Promise<PublishResult> {
    if (workload.devices.length !== this.clients.length) throw new Error('the workload is for another set of devices');
    if (workload.messagesPerDevice < 2) throw new Error('a timed run needs at least 2 messages per device');
    const primeStarted = performance.now();
    await this.startRun(workload, window, stallMs, (r) => {
      r.remaining = r.devices.length;
      r.devices.forEach((_, i) => this.send(r, i));
    }).done;
    const primeSeconds = (performance.now() - primeStarted) / 1000;

    const messages = (workload.messagesPerDevice - 1) * workload.devices.length;
    const started = performance.now();
    let reported = started;
    const timed = this.startRun(
      workload,
      window,
      stallMs,
      (r) => {
        r.timed = true;
        r.remaining = r.devices.length;
        r.devices.forEach((device, i) => {
          device.next = 2;
          device.confirmed = 1;
          this.pump(r, i);
        });
      },
      (r) => {
        const now = performance.now();
        if (now - reported < 5000) return;
        reported = now;
        const confirmed = r.devices.reduce((sum, d) => sum + d.confirmed - 1, 0);
        progress(`    ${((now - started) / 1000).toFixed(0)} s: ${confirmed.toLocaleString('en')}/${messages.toLocaleString('en')} messages confirmed`);
      },
    );
    await timed.done;
    const seconds = (performance.now() - started) / 1000;
    const latencies = timed.run.latencies;
    return { figures: figuresOf(messages, messages * workload.readingsPerMessage, seconds, primeSeconds, latencies), latencies };
  }

  private startRun(
    workload: Workload,
    window: number,
    stallMs: number,
    begin: (run: Run) => void,
    tick: (run: Run) => void = () => undefined,
  ): { run: Run; done: Promise<void> } {
    let resolveDone: () => void = () => undefined;
    let rejectDone: (error: Error) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      resolveDone = resolve;
      rejectDone = reject;
    });
    const run: Run = {
      workload,
      window,
      devices: workload.devices.map(() => ({ next: 1, confirmed: 0, sentAt: new Float64Array(workload.messagesPerDevice + 1) })),
      latencies: [],
      timed: false,
      remaining: 0,
      lastProgress: performance.now(),
      settle: () => resolveDone(),
      fail: (error) => rejectDone(error),
    };
    const watchdog = setInterval(() => {
      tick(run);
      if (performance.now() - run.lastProgress < stallMs) return;
      const behind = run.devices.map((d, i) => ({ device: this.clients[i]?.deviceId, sent: d.next - 1, confirmed: d.confirmed })).filter((d) => d.confirmed < d.sent);
      rejectDone(new Error(`no confirmation for ${stallMs / 1000} s; ${behind.length} devices behind, e.g. ${JSON.stringify(behind.slice(0, 3))}`));
    }, 250);
    this.run = run;
    void done.catch(() => undefined).finally(() => {
      clearInterval(watchdog);
      if (this.run === run) this.run = undefined;
    });
    begin(run);
    return { run, done };
  }

  private pump(run: Run, index: number): void {
    const device = run.devices[index];
    if (!device) return;
    while (device.next <= run.workload.messagesPerDevice && device.next - 1 - device.confirmed < run.window) {
      this.send(run, index);
    }
  }

  private send(run: Run, index: number): void {
    const device = run.devices[index];
    const entry = this.clients[index];
    if (!device || !entry) return;
    const seq = device.next;
    device.next += 1;
    device.sentAt[seq] = performance.now();
    entry.client.publish(deviceTopic(entry.deviceId, 'readings'), run.workload.payload(index, seq), { qos: 1 }, (err) => {
      if (err) run.fail(new Error(`publish ${entry.deviceId} seq ${seq}: ${err.message}`));
    });
  }

  private confirm(index: number, seq: number): void {
    const run = this.run;
    const device = run?.devices[index];
    if (!run || !device || seq <= device.confirmed) return;
    const now = performance.now();
    const upTo = Math.min(seq, device.next - 1);
    if (run.timed) for (let s = device.confirmed + 1; s <= upTo; s += 1) run.latencies.push(now - (device.sentAt[s] ?? now));
    device.confirmed = upTo;
    run.lastProgress = now;
    const last = run.timed ? run.workload.messagesPerDevice : 1;
    if (device.confirmed >= last) {
      run.remaining -= 1;
      if (run.remaining === 0) run.settle();
      return;
    }
    this.pump(run, index);
  }
}
