import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitUntil } from './wait-until';

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The raw body, as signed. */
  readonly body: string;
  readonly at: Date;
}

export interface Answer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Answer only after this long (a slow receiver). */
  readonly delayMs?: number;
}

/** A real HTTP server on 127.0.0.1 (port 0) that records every request and answers as a test scripts it. */
export interface WebhookReceiver {
  readonly port: number;
  url(path?: string): string;
  readonly received: ReceivedRequest[];
  /** The answer to the n-th request (0-based) on a path; 200 unless scripted. */
  answer(fn: (request: ReceivedRequest, n: number) => Answer): void;
  waitForRequests(count: number, path?: string, timeoutMs?: number): Promise<ReceivedRequest[]>;
  on(path: string): ReceivedRequest[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  let script: (request: ReceivedRequest, n: number) => Answer = () => ({ status: 200, body: 'ok' });
  const on = (path: string) => received.filter((r) => r.path === path);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: new Date() };
      received.push(request);
      const answer = script(request, on(request.path).length - 1);
      const send = () => {
        if (!res.destroyed) res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    received,
    answer(fn) {
      script = fn;
    },
    async waitForRequests(count, path, timeoutMs = 15_000) {
      const matching = () => (path === undefined ? received : on(path));
      await waitUntil(`${count} request(s) reached the receiver${path ? ` on ${path}` : ''}`, () => matching().length >= count, timeoutMs);
      return matching();
    },
    on,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
