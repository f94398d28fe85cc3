import { connect, type MqttClient } from 'mqtt';
import { ReadingsBuffer } from '../../src/cli/simulator/readings-buffer';
import { deviceTopic } from '../../src/platform/mqtt/topics';
import type { TestDevice } from './mqtt-clients';

export interface ProtocolDeviceOptions {
  readonly url: string;
  /** The CA the broker's certificate chains to. */
  readonly caPem: string;
  readonly identity: TestDevice;
  /** Sensor keys of every message, one reading each (ReadingsBuffer). */
  readonly sensors: readonly string[];
  /** docs/mqtt.md says 30 s; tests use a short one. */
  readonly resendAfterMs: number;
  readonly maxUnconfirmed?: number;
  readonly reconnectPeriodMs?: number;
}

export interface PublishedMessage {
  readonly payload: string;
  /** When it was first published (ms). */
  readonly at: number;
}

/**
 * A device that follows docs/mqtt.md "Sequence numbers and delivery" to the
 * letter, on the simulator's ReadingsBuffer: it keeps every message until a
 * confirmation on …/readings/committed covers it, resends what it keeps
 * after every connect, and — unlike SimulatedDevice, which looks only when
 * it publishes the next message — also while connected and idle, as soon as
 * the oldest kept message has waited `resendAfterMs` without a confirmation.
 * Timestamps are unique per device (at least 1 ms apart), so every message's
 * readings are distinct rows.
 */
export class ProtocolDevice {
  /** Every message as first published, by seq. */
  readonly published = new Map<number, PublishedMessage>();
  resent = 0;
  connects = 0;
  /** The highest confirmation heard. */
  confirmed = 0;
  lastError: string | undefined;
  private readonly buffer: ReadingsBuffer;
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastAt = 0;

  constructor(private readonly options: ProtocolDeviceOptions) {
    this.buffer = new ReadingsBuffer(options.sensors, 0, options.maxUnconfirmed ?? 100_000);
  }

  get deviceId(): string {
    return this.options.identity.deviceId;
  }

  get lastSeq(): number {
    return this.buffer.lastSeq;
  }

  get unconfirmed(): number {
    return this.buffer.size;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  start(): void {
    const { identity } = this.options;
    const client = connect(this.options.url, {
      clientId: identity.deviceId,
      protocolVersion: 4,
      clean: true,
      key: identity.key,
      cert: identity.cert,
      ca: [this.options.caPem],
      rejectUnauthorized: true,
      reconnectPeriod: this.options.reconnectPeriodMs ?? 500,
      connectTimeout: 5_000,
      resubscribe: false,
    });
    this.client = client;
    client.on('error', (err) => {
      this.lastError = err.message;
    });
    client.on('connect', () => this.onConnect(client));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    this.timer = setInterval(() => {
      if (client.connected && this.buffer.stalled(Date.now(), this.options.resendAfterMs)) this.resendKept(client);
    }, 100);
  }

  /** The next readings message: sent now if connected, kept until confirmed either way. */
  publish(): void {
    const at = Math.max(Date.now(), this.lastAt + 1);
    this.lastAt = at;
    const payload = this.buffer.next(new Date(at));
    this.published.set(this.buffer.lastSeq, { payload, at });
    if (this.client?.connected) this.send(this.client, payload);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.client?.endAsync(true);
  }

  private onConnect(client: MqttClient): void {
    this.connects += 1;
    client.subscribe(deviceTopic(this.deviceId, 'readings/committed'), { qos: 1 }, (err) => {
      if (err) this.lastError = err.message;
    });
    this.resendKept(client);
  }

  private resendKept(client: MqttClient): void {
    for (const payload of this.buffer.pending()) {
      this.send(client, payload);
      this.resent += 1;
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic !== deviceTopic(this.deviceId, 'readings/committed')) return;
    const seq = (JSON.parse(payload.toString('utf8')) as { seq?: unknown }).seq;
    if (typeof seq !== 'number') return;
    this.buffer.confirm(seq);
    this.confirmed = Math.max(this.confirmed, seq);
  }

  private send(client: MqttClient, payload: string): void {
    client.publish(deviceTopic(this.deviceId, 'readings'), payload, { qos: 1 }, (err) => {
      if (err) this.lastError = err.message;
    });
  }
}
