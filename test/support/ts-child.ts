import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../src/platform/project-root';

/**
 * Runs a TypeScript entry in a plain Node process (its own heap, its own
 * fate): `.ts` files are compiled on require by @swc/core, as jest does.
 */
const REGISTER = `
const { readFileSync } = require('node:fs');
const swc = require('@swc/core');
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(readFileSync(filename, 'utf8'), {
    filename, module: { type: 'commonjs' }, jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
  });
  module._compile(code, filename);
};
require(process.argv[1]);
`;

export interface TsChild {
  readonly process: ChildProcess;
  /** The next JSON line on stdout that `accept` takes (earlier ones are skipped). */
  message<T>(accept: (message: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<T>;
  /** Stderr so far, for failure messages. */
  readonly errors: () => string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnTs(entry: string, options: { execArgv?: string[]; env?: Record<string, string> } = {}): TsChild {
  const child = spawn(process.execPath, [...(options.execArgv ?? []), '-e', REGISTER, entry], {
    cwd: projectRoot(),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiters) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    errors: () => stderr,
    message<T>(accept: (message: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const check = (): void => {
          const found = lines.find(accept);
          if (!found) return;
          cleanup();
          resolve(found as T);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no such message from the child within ${timeoutMs} ms; stderr:\n${stderr}`));
        }, timeoutMs);
        const onExit = (): void => {
          cleanup();
          reject(new Error(`the child exited without such a message; stderr:\n${stderr}`));
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
        };
        waiters.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
