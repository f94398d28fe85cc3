import { loadConfig } from '../platform/config';
import { openPlatform, type Platform } from '../platform/platform';
import pino from 'pino';

/**
 * CLI composition: the same configuration as the server (environment), logs
 * to stderr so stdout stays machine-readable. With the embedded database it
 * uses the running server's Postgres, or starts it for the command's duration.
 */
export async function openCliPlatform(): Promise<Platform> {
  const config = loadConfig();
  const log = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
  return openPlatform(config, log, { poolSize: 4, name: 'iotplane-cli' });
}

export async function withPlatform<T>(fn: (platform: Platform) => Promise<T>): Promise<T> {
  const platform = await openCliPlatform();
  try {
    return await fn(platform);
  } finally {
    await platform.close();
  }
}
