import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../logger';
import { issueServerCertificate } from '../pki/certificate-issuer';
import type { DeviceCa } from '../pki/device-ca';

export interface TlsListenerOptions {
  readonly ca: DeviceCa;
  readonly port: number;
  readonly host: string;
  /** Extra names for the server certificate, besides localhost, 127.0.0.1 and `host`. */
  readonly serverNames?: { readonly hostnames?: readonly string[]; readonly ips?: readonly string[] };
  readonly log: Logger;
  readonly onConnection: (socket: tls.TLSSocket) => void;
}

export interface TlsListener {
  readonly port: number;
  /** Stops accepting and destroys every socket still open. */
  close(): Promise<void>;
}

export const ANY_ADDRESS: ReadonlySet<string> = new Set(['0.0.0.0', '::']);

/**
 * Mutual TLS in front of the broker: a handshake completes only with a
 * client certificate that chains to the device CA, so nothing else ever
 * reaches MQTT. The server certificate is issued fresh at every start.
 */
export async function listenMutualTls(options: TlsListenerOptions): Promise<TlsListener> {
  const { log } = options;
  const issued = await issueServerCertificate(options.ca, serverNames(options));
  const sockets = new Set<Socket>();
  const server = tls.createServer(
    { key: issued.privateKeyPem, cert: issued.certificatePem, ca: [options.ca.certificatePem], requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    options.onConnection,
  );
  // Raw sockets, so that close() also ends connections stuck before or in the handshake.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', (err, socket) => log.info({ err: err.message, remoteAddress: socket.remoteAddress }, 'mqtt tls handshake refused'));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'mqtt listener error'));
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function serverNames(options: TlsListenerOptions): { hostnames: string[]; ips: string[] } {
  const hostnames = new Set(['localhost', ...(options.serverNames?.hostnames ?? [])]);
  const ips = new Set(['127.0.0.1', ...(options.serverNames?.ips ?? [])]);
  if (isIP(options.host) === 0) hostnames.add(options.host);
  else if (!ANY_ADDRESS.has(options.host)) ips.add(options.host);
  return { hostnames: [...hostnames], ips: [...ips] };
}
