import type { Pool } from '../../src/platform/db/pool';

export interface GatedPool {
  readonly pool: Pool;
  readonly frozen: boolean;
  /** From now on `connect()` and `query()` wait (a process that stopped making progress). */
  freeze(): void;
  /** Lets the waiting calls through. */
  thaw(): void;
}

/**
 * Wraps a pool so that a test can stop one component's database work
 * without touching the server others use: while frozen, new checkouts and
 * pool queries wait (no timer runs, so nothing keeps the process alive);
 * clients already checked out carry on.
 */
export function gatedPool(inner: Pool): GatedPool {
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const passed = (): Promise<void> => gate ?? Promise.resolve();
  const pool = new Proxy(inner, {
    get(target, property) {
      if (property === 'connect' || property === 'query') {
        const method = Reflect.get(target, property, target) as (...args: unknown[]) => unknown;
        return async (...args: unknown[]) => {
          await passed();
          return method.apply(target, args);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    pool,
    get frozen() {
      return gate !== undefined;
    },
    freeze() {
      gate ??= new Promise<void>((resolve) => {
        open = resolve;
      });
    },
    thaw() {
      open?.();
      gate = undefined;
      open = undefined;
    },
  };
}
