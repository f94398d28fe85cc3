import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** The plain subscriber's group: the ingesters' shape ($share/ingest/devices/+/readings) under another name. */
export const PLAIN_SUBSCRIPTION = '$share/bench-plain/devices/+/readings';
const PLAIN_NAME = 'bench-plain';

/** A process's INGEST_NAME: the base alone for one process, `<base>-p<i>` for several. */
function processName(base: string, processes: number, i: number): string {
  return processes === 1 ? base : `${base}-p${i}`;
}

/**
 * The internal identities the subscriber processes connect with (connection
 * k of a process named n is `n-k`, as startReadingsIngest names them), for
 * Mosquitto's ACL.
 */
export function subscriberIdentities(ingestName: string, processes: number, connections: number): string[] {
  return [ingestName, PLAIN_NAME].flatMap((base) =>
    Array.from({ length: processes }, (_, i) => processName(base, processes, i + 1)).flatMap((name) => Array.from({ length: connections }, (__, k) => `${name}-${k + 1}`)),
  );
}

export type SubscriberMode = 'ingest' | 'plain';

export interface SubscriberStats {
  /** Since the process started. */
  readonly cpuSeconds: number;
  readonly loopActiveMs: number;
  readonly loopIdleMs: number;
  /** ingest: the pipeline's metrics (name{labels} → value); plain: `received`. */
  readonly figures: Record<string, number>;
}

export interface SubscriberRequest {
  readonly id: number;
  readonly op: 'stats' | 'reset';
}

export type SubscriberReply =
  | { readonly id: number; readonly stats: SubscriberStats }
  | { readonly id: number; readonly error: string }
  | { readonly id: 0; readonly ready: SubscriberMode };

export interface SubscriberProcess {
  readonly mode: SubscriberMode;
  readonly pid: number | undefined;
  /** Its counters now; `reset` first zeroes the plain subscriber's counts. */
  request(op: SubscriberRequest['op']): Promise<SubscriberStats>;
  stop(): Promise<void>;
}

/**
 * Starts bench/ingest-subscriber.js in `mode` with `env` (nothing else of
 * this process's environment but PATH) and resolves once it is subscribed.
 * Its stdout (warnings and errors: LOG_LEVEL=warn) goes to this process's
 * stderr, so stdout keeps the figures.
 */
async function startSubscriberProcess(mode: SubscriberMode, env: Record<string, string>): Promise<SubscriberProcess> {
  const profileDir = process.env.BENCH_CPU_PROFILE_DIR;
  const child: ChildProcess = fork(path.join(__dirname, 'ingest-subscriber.js'), [mode], {
    env: { PATH: process.env.PATH ?? '', ...env },
    // A V8 CPU profile of each subscriber process, written when it stops (open in Chrome DevTools).
    execArgv: profileDir === undefined || profileDir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.stdout?.pipe(process.stderr);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const waiting = new Map<number, { resolve: (stats: SubscriberStats) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  child.on('message', (reply: SubscriberReply) => {
    const waiter = waiting.get(reply.id);
    if (!waiter) return;
    waiting.delete(reply.id);
    if ('stats' in reply) waiter.resolve(reply.stats);
    else if ('error' in reply) waiter.reject(new Error(`bench subscriber: ${reply.error}`));
  });
  void exited.then((code) => {
    for (const waiter of waiting.values()) waiter.reject(new Error(`the ${mode} subscriber exited with ${String(code)}`));
    waiting.clear();
  });

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${mode} subscriber did not start within 60 s`)), 60_000);
    child.on('message', (reply: SubscriberReply) => {
      if ('ready' in reply) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the ${mode} subscriber exited with ${String(code)} before it was ready`));
    });
  });

  return {
    mode,
    pid: child.pid,
    request(op) {
      const id = nextId;
      nextId += 1;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        child.send({ id, op } satisfies SubscriberRequest);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface Subscribers {
  readonly mode: SubscriberMode;
  readonly pids: readonly (number | undefined)[];
  /** The processes' counters summed (event loop times too: their ratio is the mean utilisation). */
  request(op: SubscriberRequest['op']): Promise<SubscriberStats>;
  stop(): Promise<void>;
}

/**
 * `processes` subscriber processes in `mode`, side by side in one shared
 * subscription group: ingest processes named after INGEST_NAME (as several
 * ingest processes must be), plain ones after `bench-plain`.
 */
export async function startSubscribers(mode: SubscriberMode, processes: number, ingestName: string, env: Record<string, string>): Promise<Subscribers> {
  const base = mode === 'ingest' ? ingestName : PLAIN_NAME;
  const started: SubscriberProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((child) => child.stop()));
  };
  try {
    for (let i = 1; i <= processes; i += 1) started.push(await startSubscriberProcess(mode, { ...env, INGEST_NAME: processName(base, processes, i) }));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    mode,
    pids: started.map((child) => child.pid),
    async request(op) {
      const all = await Promise.all(started.map((child) => child.request(op)));
      const figures: Record<string, number> = {};
      for (const stats of all) for (const [name, value] of Object.entries(stats.figures)) figures[name] = (figures[name] ?? 0) + value;
      const sum = (pick: (stats: SubscriberStats) => number): number => all.reduce((total, stats) => total + pick(stats), 0);
      return { cpuSeconds: sum((x) => x.cpuSeconds), loopActiveMs: sum((x) => x.loopActiveMs), loopIdleMs: sum((x) => x.loopIdleMs), figures };
    },
    stop,
  };
}
