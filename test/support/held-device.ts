import type { MqttClient } from 'mqtt';
import { answerCommand } from '../../src/cli/simulator/command-answers';
import { commandAckTopic, deviceTopic } from '../../src/platform/mqtt/topics';
import type { DeviceCa } from '../../src/platform/pki/device-ca';
import { connectDevice, type TestDevice } from './mqtt-clients';

/** A command as a device receives it (schemas/mqtt/command.json). */
export interface DeliveredCommand {
  readonly commandId: string;
  readonly name: string;
  readonly params: Record<string, unknown>;
  readonly expiresAt: string;
}

/**
 * A device under a test's control: it keeps every command it receives and
 * answers only when told, with the simulator's answers (ACKNOWLEDGED, then
 * SUCCEEDED). Sessions are clean, as docs/mqtt.md asks of devices.
 */
export class HeldDevice {
  readonly received: DeliveredCommand[] = [];
  private client: MqttClient | undefined;
  private readonly clients: MqttClient[] = [];

  constructor(
    readonly identity: TestDevice,
    private readonly url: string,
    private readonly ca: DeviceCa,
  ) {}

  get deviceId(): string {
    return this.identity.deviceId;
  }

  /** A new session; `subscribe` false leaves the device deaf to commands and silent (the platform waits 2 s before sending to it). */
  async connect(subscribe = true): Promise<void> {
    const client = await connectDevice(this.url, this.ca, this.identity);
    this.client = client;
    this.clients.push(client);
    client.on('message', (topic, payload) => {
      if (topic === deviceTopic(this.deviceId, 'commands')) this.received.push(JSON.parse(payload.toString()) as DeliveredCommand);
    });
    if (subscribe) await this.subscribe();
  }

  /** Subscribes, then sends the session's first heartbeat, as docs/mqtt.md asks: the platform then knows it listens. */
  async subscribe(): Promise<void> {
    await this.session().subscribeAsync(deviceTopic(this.deviceId, 'commands'), { qos: 1 });
    await this.session().publishAsync(deviceTopic(this.deviceId, 'health'), JSON.stringify({ uptimeSeconds: 1 }), { qos: 1 });
  }

  async disconnect(): Promise<void> {
    await this.session().endAsync();
  }

  /** Ends every session it opened. */
  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.endAsync(true)));
  }

  deliveries(commandId: string): number {
    return this.received.filter((c) => c.commandId === commandId).length;
  }

  /** Answers the last delivery of the command as the simulator does, or with only its first `count` answers. */
  async answer(commandId: string, count = 2): Promise<void> {
    const delivered = [...this.received].reverse().find((c) => c.commandId === commandId);
    const answers = answerCommand(delivered, new Date());
    if (!answers) throw new Error(`${commandId} was not delivered`);
    for (const ack of answers.acks.slice(0, count)) await this.publish(commandId, ack);
  }

  /** Publishes on its own …/commands/{commandId}/ack: an object as JSON, a string as it is. */
  async publish(commandId: string, body: unknown): Promise<void> {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    await this.session().publishAsync(commandAckTopic(this.deviceId, commandId), payload, { qos: 1 });
  }

  private session(): MqttClient {
    if (!this.client) throw new Error('not connected');
    return this.client;
  }
}
