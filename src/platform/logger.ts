import pino, { type Logger } from 'pino';

export type { Logger };

/** Root logger: JSON lines on stdout. Modules take a child with `module` set. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'iotplane' }, timestamp: pino.stdTimeFunctions.isoTime });
}

export function moduleLogger(root: Logger, module: string): Logger {
  return root.child({ module });
}
