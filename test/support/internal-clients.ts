import type { MqttClient } from 'mqtt';

/**
 * The platform's internal MQTT clients by name (`ingest-a-1`, …), recorded
 * by a test that wraps `connectInternalClient` with jest.mock, so it can
 * watch a component's connections (reconnects, deliveries) or cut them.
 */
const clients: { readonly name: string; readonly client: MqttClient }[] = [];

export function recordInternalClient(name: string, client: MqttClient): MqttClient {
  clients.push({ name, client });
  return client;
}

/** The clients connected so far under names starting with `prefix`, in the order they connected. */
export function internalClients(prefix: string): MqttClient[] {
  return clients.filter((entry) => entry.name.startsWith(prefix)).map((entry) => entry.client);
}
