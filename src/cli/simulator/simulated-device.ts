import { randomUUID } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { QUIET_MQTT_CLIENT } from '../../platform/mqtt/client-trace';
import { deviceTopic } from '../../platform/mqtt/topics';
import { answerCommand, type CommandAck } from './command-answers';
import type { DeviceCredentials } from './device-credentials';
import { ReadingsBuffer } from './readings-buffer';

export interface DeviceOptions {
  /** Overrides the broker URL the platform handed out at provisioning. */
  readonly mqttUrl?: string;
  readonly heartbeatMs: number;
  /** Readings messages kept until confirmed on …/readings/committed; the oldest go first past it. */
  readonly maxUnconfirmed: number;
  /** Kept messages are sent again when the oldest has waited this long without a confirmation (docs/mqtt.md: 30 s). */
  readonly resendAfterMs?: number;
}

export interface DeviceCounters {
  sent: number;
  resent: number;
  commands: number;
  /** Desired states applied (and reported back). */
  configs: number;
  heartbeats: number;
  errors: number;
}

/**
 * One device as docs/mqtt.md describes it: mutual TLS with its own
 * certificate, a heartbeat every interval, readings with a per-device
 * sequence number kept until the platform confirms them (resent after a
 * reconnect), commands acknowledged on …/commands/{id}/ack, and each
 * desired state applied as it is and reported on …/reported.
 */
export class SimulatedDevice {
  readonly counters: DeviceCounters = { sent: 0, resent: 0, commands: 0, configs: 0, heartbeats: 0, errors: 0 };
  lastError: string | undefined;
  private client: MqttClient | undefined;
  private readonly buffer: ReadingsBuffer;
  private readonly startedAt = Date.now();
  /** Named in heartbeats; new with every connection. */
  private session = randomUUID();
  private heartbeat: NodeJS.Timeout | undefined;
  private stallCheck: NodeJS.Timeout | undefined;
  /** Final answers by commandId: a repeated delivery is answered with the outcome, not run again (docs/mqtt.md). */
  private readonly answered = new Map<string, CommandAck>();

  constructor(
    readonly credentials: DeviceCredentials,
    private readonly options: DeviceOptions,
  ) {
    this.buffer = new ReadingsBuffer(credentials.sensors, credentials.lastSeq, options.maxUnconfirmed);
  }

  get deviceId(): string {
    return this.credentials.deviceId;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  get lastSeq(): number {
    return this.buffer.lastSeq;
  }

  get unconfirmedCount(): number {
    return this.buffer.size;
  }

  get overflowed(): number {
    return this.buffer.overflowed;
  }

  start(): void {
    const { credentials } = this;
    const client = connect(this.options.mqttUrl ?? credentials.mqttUrl, {
      clientId: credentials.deviceId,
      protocolVersion: 4,
      clean: true,
      key: credentials.keyPem,
      cert: credentials.certificatePem,
      ca: [credentials.caPem],
      rejectUnauthorized: true,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      resubscribe: false,
      ...QUIET_MQTT_CLIENT,
    });
    this.client = client;
    client.on('error', (err) => {
      this.counters.errors += 1;
      this.lastError = err.message;
    });
    client.on('connect', () => this.onConnect(client));
    client.on('message', (topic, payload) => this.onMessage(client, topic, payload));
    this.heartbeat = setInterval(() => this.sendHeartbeat(client), this.options.heartbeatMs);
    // Stalled confirmations (docs/mqtt.md): everything kept goes again, whether or not new readings are due.
    this.stallCheck = setInterval(() => {
      if (client.connected && this.buffer.stalled(Date.now(), this.options.resendAfterMs ?? 30_000)) this.resendPending(client);
    }, 1000);
  }

  /** The next readings message: sent now if connected, kept until confirmed either way. */
  publishReadings(now: Date): void {
    const payload = this.buffer.next(now);
    if (!this.client?.connected) return;
    this.send(this.client, payload);
    this.counters.sent += 1;
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    clearInterval(this.stallCheck);
    await this.client?.endAsync();
  }

  private onConnect(client: MqttClient): void {
    // A new id per connection: with Mosquitto the heartbeat is how the platform learns of a new session.
    this.session = randomUUID();
    const subscriptions = ['commands', 'readings/committed', 'desired'].map((leaf) => deviceTopic(this.deviceId, leaf));
    client.subscribe(subscriptions, { qos: 1 }, (err) => {
      if (err) this.lastError = err.message;
    });
    this.sendHeartbeat(client);
    // Whatever the platform has not confirmed may have been lost with the old session.
    this.resendPending(client);
  }

  private resendPending(client: MqttClient): void {
    for (const payload of this.buffer.pending()) {
      this.send(client, payload);
      this.counters.resent += 1;
    }
  }

  private onMessage(client: MqttClient, topic: string, payload: Buffer): void {
    if (topic === deviceTopic(this.deviceId, 'readings/committed')) {
      const seq = (parseJson(payload) as { seq?: unknown } | undefined)?.seq;
      if (typeof seq === 'number') this.buffer.confirm(seq);
      return;
    }
    if (topic === deviceTopic(this.deviceId, 'desired')) {
      const desired = parseJson(payload) as { version?: unknown; state?: unknown } | undefined;
      if (typeof desired?.version !== 'string' || typeof desired.state !== 'object' || desired.state === null) return;
      this.counters.configs += 1;
      const report = { state: desired.state, appliedVersion: desired.version };
      client.publish(deviceTopic(this.deviceId, 'reported'), JSON.stringify(report), { qos: 1 }, (err) => this.noteFailure(err));
      return;
    }
    if (topic !== deviceTopic(this.deviceId, 'commands')) return;
    const answers = answerCommand(parseJson(payload), new Date());
    if (answers === undefined) return;
    this.counters.commands += 1;
    const known = this.answered.get(answers.commandId);
    const acks = known ? [known] : answers.acks;
    const final = answers.acks[answers.acks.length - 1];
    if (!known && final) this.remember(answers.commandId, final);
    for (const ack of acks) {
      client.publish(deviceTopic(this.deviceId, `commands/${answers.commandId}/ack`), JSON.stringify(ack), { qos: 1 }, (err) => this.noteFailure(err));
    }
  }

  private remember(commandId: string, ack: CommandAck): void {
    this.answered.set(commandId, ack);
    // The oldest go first: a bounded memory, as on a real device.
    if (this.answered.size > 1000) this.answered.delete(this.answered.keys().next().value ?? commandId);
  }

  private sendHeartbeat(client: MqttClient): void {
    if (!client.connected) return;
    const uptimeSeconds = Math.floor((Date.now() - this.startedAt) / 1000);
    const beat = {
      firmwareVersion: 'sim-1.0.0',
      signalDbm: -55 - Math.round(Math.random() * 20),
      batteryPercent: Math.max(20, 100 - Math.floor(uptimeSeconds / 3600)),
      uptimeSeconds,
      session: this.session,
    };
    client.publish(deviceTopic(this.deviceId, 'health'), JSON.stringify(beat), { qos: 1 }, (err) => this.noteFailure(err));
    this.counters.heartbeats += 1;
  }

  private send(client: MqttClient, payload: string): void {
    client.publish(deviceTopic(this.deviceId, 'readings'), payload, { qos: 1 }, (err) => this.noteFailure(err));
  }

  private noteFailure(err: Error | undefined): void {
    if (!err) return;
    this.counters.errors += 1;
    this.lastError = err.message;
  }
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
