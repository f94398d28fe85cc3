import { createServer } from 'node:http';
import type { Registry } from 'prom-client';

/** /metrics for a process without the API (ingest, projector, worker roles), on METRICS_PORT. */
export async function startMetricsServer(registry: Registry, port: number): Promise<{ stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return { stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
