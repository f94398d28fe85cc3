/**
 * The MQTT topic contract (docs/mqtt.md). Everything a device does happens
 * under `devices/{its certificate CN}/`; the CN is its device id.
 */
export const DEVICE_PUBLISHES = ['readings', 'health', 'reported', 'events', 'certificates/renew'] as const;
export const DEVICE_SUBSCRIBES = ['desired', 'commands', 'readings/committed', 'certificates/issued'] as const;

export function deviceTopic(deviceId: string, leaf: string): string {
  return `devices/${deviceId}/${leaf}`;
}

export function commandAckTopic(deviceId: string, commandId: string): string {
  return `devices/${deviceId}/commands/${commandId}/ack`;
}

/** The topics handed to a device at provisioning. */
export function deviceTopics(deviceId: string): { publish: string[]; subscribe: string[] } {
  return {
    publish: [...DEVICE_PUBLISHES.map((leaf) => deviceTopic(deviceId, leaf)), deviceTopic(deviceId, 'commands/+/ack')],
    subscribe: DEVICE_SUBSCRIBES.map((leaf) => deviceTopic(deviceId, leaf)),
  };
}

/** Shared subscription of the ingesters: several processes split the readings. */
export const INGEST_SUBSCRIPTION = '$share/ingest/devices/+/readings';

/** Shared subscription of the certificate renewal service (src/ingest/certificate-renewal.ts). */
export const RENEWAL_SUBSCRIPTION = '$share/renewal/devices/+/certificates/renew';

/** Shared subscription of the heartbeat reader used with an external broker (src/ingest/device-health.ingest.ts). */
export const HEALTH_SUBSCRIPTION = '$share/health/devices/+/health';

/** Shared subscription of the command dispatcher (src/ingest/command-dispatcher.ts): devices' answers to commands. */
export const COMMAND_ACK_SUBSCRIPTION = '$share/commands/devices/+/commands/+/ack';

/** The device and command of a `devices/{id}/commands/{commandId}/ack` topic. */
export function commandAckOf(topic: string): { deviceId: string; commandId: string } | undefined {
  const match = /^devices\/([^/+#]+)\/commands\/([^/+#]+)\/ack$/.exec(topic);
  const [, deviceId, commandId] = match ?? [];
  return deviceId === undefined || commandId === undefined ? undefined : { deviceId, commandId };
}

/** The device id a topic belongs to, or undefined when it is not under devices/{id}/. */
export function deviceIdOf(topic: string): string | undefined {
  const match = /^devices\/([^/+#]+)\//.exec(topic);
  return match?.[1];
}

/** Whether a device with this id may publish to `topic` (exact topics only, no wildcards). */
export function devicePublishAllowed(deviceId: string, topic: string): boolean {
  if (topic.includes('+') || topic.includes('#')) return false;
  const prefix = `devices/${deviceId}/`;
  if (!topic.startsWith(prefix)) return false;
  const leaf = topic.slice(prefix.length);
  return (DEVICE_PUBLISHES as readonly string[]).includes(leaf) || /^commands\/[^/]+\/ack$/.test(leaf);
}

/** Whether a device may subscribe to `filter`: only what the platform publishes to it, no wildcards. */
export function deviceSubscribeAllowed(deviceId: string, filter: string): boolean {
  return (DEVICE_SUBSCRIBES as readonly string[]).some((leaf) => filter === deviceTopic(deviceId, leaf));
}
