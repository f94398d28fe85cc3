import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Pool } from '../db/pool';
import { comparePositions, parsePosition, type Position } from '../event-store/event-store.port';
import { CHECKPOINT_CHANNEL, listCheckpoints } from './checkpoints';

/**
 * Read-your-writes for the API: knows every projection's checkpoint (from
 * the notifications each checkpoint advance sends) and waits, bounded, until
 * the projections that handle a command's events have passed its position.
 */
export class CheckpointWatcher {
  private readonly positions = new Map<string, Position>();
  private readonly changed = new EventEmitter();
  private client: pg.Client | undefined;
  private started: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly connectionString: string,
    private readonly projections: readonly { readonly name: string; readonly eventTypes: readonly string[] }[],
  ) {
    this.changed.setMaxListeners(0);
  }

  start(): Promise<void> {
    this.started ??= this.listen();
    return this.started;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.started = undefined;
    if (client) await client.end().catch(() => undefined);
  }

  position(name: string): Position | undefined {
    return this.positions.get(name);
  }

  /** Projections that handle any of these event types. */
  projectionsFor(eventTypes: readonly string[]): string[] {
    return this.projections.filter((p) => p.eventTypes.some((t) => eventTypes.includes(t))).map((p) => p.name);
  }

  /** Calls `listener` each time the named projection's checkpoint moves forward; returns the way to stop. */
  onAdvance(name: string, listener: (position: Position) => void): () => void {
    const event = `advanced:${name}`;
    this.changed.on(event, listener);
    return () => this.changed.off(event, listener);
  }

  /** Resolves true once every named projection has reached `position`, false after `timeoutMs`. */
  async waitFor(names: readonly string[], position: Position, timeoutMs: number): Promise<boolean> {
    await this.start();
    const reached = (): boolean =>
      names.every((name) => {
        const at = this.positions.get(name);
        return at !== undefined && comparePositions(at, position) >= 0;
      });
    if (reached()) return true;
    return new Promise<boolean>((resolve) => {
      const check = (): void => {
        if (!reached()) return;
        finish(true);
      };
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        this.changed.off('changed', check);
        resolve(result);
      };
      const timer = setTimeout(() => finish(reached()), timeoutMs);
      this.changed.on('changed', check);
    });
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, application_name: 'iotplane-checkpoint-watcher' });
    client.on('notification', (message) => {
      const [name, ...rest] = (message.payload ?? '').split(':');
      const position = parsePosition(rest.join(':'));
      if (name && position) this.record(name, position);
    });
    client.on('error', () => {
      // Reconnect on the next wait; until then waits end by their timeout.
      this.client = undefined;
      this.started = undefined;
    });
    await client.connect();
    await client.query(`LISTEN ${CHECKPOINT_CHANNEL}`);
    this.client = client;
    for (const checkpoint of await listCheckpoints(this.pool)) this.record(checkpoint.name, checkpoint.position);
  }

  private record(name: string, position: Position): void {
    const current = this.positions.get(name);
    // A rebuild may legitimately move a checkpoint; keep the newest seen.
    if (!current || comparePositions(position, current) > 0) {
      this.positions.set(name, position);
      this.changed.emit(`advanced:${name}`, position);
    }
    this.changed.emit('changed');
  }
}
