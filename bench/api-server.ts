import type { Server } from 'node:http';
import { createApp } from '../src/api/app';
import { API_ROUTES } from '../src/api/routes/index';
import { createApiDeps } from '../src/api/server';
import { loadConfig } from '../src/platform/config';
import { createLogger, moduleLogger } from '../src/platform/logger';
import { openPlatform } from '../src/platform/platform';
import { PROJECTIONS } from '../src/projections/index';
import { startProjectors } from '../src/projections/projector-process';

/**
 * The API process of the benchmark: the `all` role of src/main.ts (projectors
 * and the API, wired by startProjectors / createApiDeps / createApp as
 * startApi does), run in a process of its own so the load generator does not
 * share its event loop, and listening on 127.0.0.1 only. Configured by
 * environment like main.ts; prints `ready` once listening.
 */
async function serve(): Promise<void> {
  const config = loadConfig();
  const root = createLogger(config.logLevel);
  const platform = await openPlatform(config, root, { name: 'iotplane-bench-api' });
  const projectors = startProjectors(platform, moduleLogger(root, 'projector'));
  const deps = await createApiDeps(platform, moduleLogger(root, 'api'));
  const app = createApp(deps, API_ROUTES, PROJECTIONS);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(config.port, '127.0.0.1', () => resolve(s));
  });
  process.stdout.write('ready\n');

  const stop = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive connections of the load generator would hold close() open.
    server.closeAllConnections();
    await closed;
    await deps.watcher.stop();
    await deps.authenticator.close();
    await projectors.stop();
    await platform.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
}

serve().catch((error: unknown) => {
  process.stderr.write(`bench api: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
