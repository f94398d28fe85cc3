import pino from 'pino';
import type { Logger } from '../../src/platform/logger';

export interface CapturedLog {
  readonly log: Logger;
  readonly lines: Record<string, unknown>[];
  count(msg: string): number;
}

/** A real pino logger whose lines a test can inspect. */
export function capturedLogger(level = 'info'): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines, count: (msg) => lines.filter((l) => l.msg === msg).length };
}
