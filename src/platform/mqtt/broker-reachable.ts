import net from 'node:net';

/**
 * Readiness of the broker: a TCP connection to it opens within the timeout.
 * `mqttUrl` when an external broker is configured, else the embedded one on
 * this host's MQTT port.
 */
export function brokerReachable(mqttUrl: string | undefined, mqttPort: number, timeoutMs = 1000): Promise<boolean> {
  const target = mqttUrl ? new URL(mqttUrl) : undefined;
  const host = target?.hostname.replace(/^\[|\]$/g, '') ?? '127.0.0.1';
  const port = target?.port ? Number(target.port) : target ? (target.protocol === 'mqtt:' || target.protocol === 'tcp:' ? 1883 : 8883) : mqttPort;
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
