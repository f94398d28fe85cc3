import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { loadConfig } from '../platform/config';
import { UsageError } from './create-org.command';
import { startSimulation, type SimulationProgress } from './simulator/simulation';

export interface SimulateFlags {
  count?: string;
  rate?: string;
  sensors?: string;
  duration?: string;
  'api-url'?: string;
  'api-key'?: string;
  'mqtt-url'?: string;
}

const USAGE = 'device simulate --count <n> --rate <msgs/s> [--sensors <k>] [--duration <s>] [--api-url <url>] [--api-key <sk_…>] [--mqtt-url <mqtts://…>]';

function number(value: string | undefined, fallback: number, flag: string, min: number, max: number, integer = true): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max || (integer && !Number.isInteger(parsed))) {
    throw new UsageError(`${USAGE}\n  ${flag} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  return parsed;
}

/** --api-key, else IOTPLANE_API_KEY, else the first start's admin key in DATA_DIR/bootstrap.json. */
async function apiKey(flag: string | undefined, env: NodeJS.ProcessEnv, dataDir: string): Promise<string> {
  const given = flag ?? env.IOTPLANE_API_KEY;
  if (given) return given;
  try {
    const bootstrap = JSON.parse(await readFile(path.join(dataDir, 'bootstrap.json'), 'utf8')) as { apiKey?: unknown };
    if (typeof bootstrap.apiKey === 'string') return bootstrap.apiKey;
  } catch {
    // Reported below with what to do instead.
  }
  throw new UsageError(`${USAGE}\n  no API key: pass --api-key, set IOTPLANE_API_KEY, or run where ${dataDir}/bootstrap.json exists`);
}

function statusLine(p: SimulationProgress): Record<string, string | number> {
  return {
    provisioned: p.provisioned + p.reused,
    sent: p.sent,
    resent: p.resent,
    unconfirmed: p.unconfirmed,
    commands: p.commands,
    configs: p.configs,
    problems: p.errors === 0 ? '' : ` | errors ${p.errors} (last: ${p.lastError ?? '?'})`,
  };
}

/**
 * `device simulate`: enrols and runs simulated devices against a running
 * platform (docs/mqtt.md), with a live status line, until Ctrl-C or
 * --duration; then one JSON summary line on stdout.
 */
export async function deviceSimulateCommand(flags: SimulateFlags, env: NodeJS.ProcessEnv): Promise<void> {
  const config = loadConfig(env);
  const options = {
    count: number(flags.count, 1, '--count', 1, 100_000),
    ratePerSecond: number(flags.rate, 1, '--rate', 0, 1_000_000, false),
    sensors: number(flags.sensors, 2, '--sensors', 1, 64),
    apiUrl: flags['api-url'] ?? config.publicUrl,
    apiKey: await apiKey(flags['api-key'], env, config.dataDir),
    dataDir: config.dataDir,
    ...(flags['mqtt-url'] ? { mqttUrl: flags['mqtt-url'] } : {}),
  };
  const duration = flags.duration === undefined ? undefined : number(flags.duration, 0, '--duration', 1, 31_536_000);

  const simulation = await startSimulation(options);
  const bar = new SingleBar(
    {
      format: 'devices [{bar}] {value}/{total} connected | provisioned {provisioned} | sent {sent} (resent {resent}) | unconfirmed {unconfirmed} | commands {commands} | configs {configs}{problems}',
      noTTYOutput: true,
      notTTYSchedule: 5000,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  bar.start(options.count, 0, statusLine(simulation.progress()));
  const refresh = setInterval(() => {
    const p = simulation.progress();
    bar.update(p.connected, statusLine(p));
  }, 500);

  await new Promise<void>((resolve) => {
    const timer = duration === undefined ? undefined : setTimeout(resolve, duration * 1000);
    const onSignal = (): void => {
      clearTimeout(timer);
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  clearInterval(refresh);
  const final = simulation.progress();
  bar.update(final.connected, statusLine(final));
  bar.stop();
  await simulation.stop();
  process.stdout.write(`${JSON.stringify({ devices: simulation.devices.map((d) => d.deviceId), ...final })}\n`);
}
