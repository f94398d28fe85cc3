import pg from 'pg';

export interface UnheardPgErrors {
  /** Errors a pg client emitted while nothing listened for them. */
  readonly errors: { readonly application: string; readonly message: string }[];
  stop(): void;
}

/**
 * Records every `error` event a pg client emits with no `error` listener:
 * in a real process that event is thrown as an uncaught exception and ends
 * the process (Jest only reports it as "Test suite failed to run"). The
 * event still goes out as before; this only makes it visible to a test.
 */
export function watchUnheardPgErrors(): UnheardPgErrors {
  const errors: { application: string; message: string }[] = [];
  const prototype = pg.Client.prototype as unknown as { emit(event: string | symbol, ...args: unknown[]): boolean };
  const original = prototype.emit;
  prototype.emit = function (this: pg.Client, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && this.listenerCount('error') === 0) {
      const application = (this as unknown as { connectionParameters?: { application_name?: string } }).connectionParameters?.application_name ?? '';
      errors.push({ application, message: args[0] instanceof Error ? args[0].message : String(args[0]) });
    }
    return original.call(this, event, ...args);
  };
  return {
    errors,
    stop() {
      prototype.emit = original;
    },
  };
}
