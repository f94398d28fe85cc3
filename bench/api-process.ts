import { spawn } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';
import type { RunFigures } from './raw-sql';

export interface ApiProcess {
  stop(): Promise<void>;
}

/**
 * Starts bench/api-server.js (projectors + API, as `npm start` runs them) and
 * resolves once it listens. `env` adds or overrides settings of the process.
 */
export async function startApiProcess(databaseUrl: string, port: number, dataDir: string, env: Record<string, string> = {}): Promise<ApiProcess> {
  const child = spawn(process.execPath, [path.join(__dirname, 'api-server.js')], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      // Request lines at info would measure the terminal; rate limits would measure 429s.
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_KEY: '10000000',
      RATE_LIMIT_PER_ORG: '10000000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the API process did not start within 60 s')), 60_000);
    const onData = (chunk: Buffer): void => {
      if (!chunk.toString().includes('ready')) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      // From here on only warnings and errors: to stderr, so stdout keeps the figures.
      child.stdout.pipe(process.stderr);
      resolve();
    };
    child.stdout.on('data', onData);
    void exited.then((code) => reject(new Error(`the API process exited with ${String(code)}`)));
  });
  return {
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Until the API answers with the organization's key (its projection runs in the API process). */
export async function waitForApiKey(port: number, apiKey: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/organization`, { headers: { authorization: `Bearer ${apiKey}` } });
    if (res.ok) return;
    if (Date.now() > deadline) throw new Error(`the API still answers ${res.status} for the bench key`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** autocannon GETs for `seconds` on `connections` connections; a request slower than `timeoutSeconds` counts as an error. */
export async function viaApi(
  port: number,
  apiKey: string,
  connections: number,
  seconds: number,
  nextPath: () => string,
  timeoutSeconds = 10,
): Promise<RunFigures> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    timeout: timeoutSeconds,
    headers: { authorization: `Bearer ${apiKey}` },
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: nextPath() }) }],
  });
  return {
    requests: result['2xx'],
    errors: result.non2xx + result.errors,
    seconds: result.duration,
    requestsPerSecond: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}
