import type { Response } from 'express';
import type { Logger } from '../platform/logger';

export interface SseMessage {
  readonly id: string;
  readonly event: string;
  readonly data: unknown;
}

/** One open `text/event-stream` response. */
export class SseStream {
  private ended = false;
  private signalClosed: () => void = () => undefined;
  /** Resolves once the client left or the server ended the stream. */
  readonly closed: Promise<void>;

  constructor(private readonly res: Response) {
    this.closed = new Promise((resolve) => {
      this.signalClosed = resolve;
    });
    res.on('close', () => this.markClosed());
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** JSON.stringify writes no raw newline, so `data` is always one line. */
  send(message: SseMessage): void {
    if (!this.ended) this.res.write(`id: ${message.id}\nevent: ${message.event}\ndata: ${JSON.stringify(message.data)}\n\n`);
  }

  /** A comment line: ignored by EventSource clients, keeps proxies from timing the connection out. */
  comment(text: string): void {
    if (!this.ended) this.res.write(`: ${text}\n\n`);
  }

  /** Resolves when a slow client has taken what was written, or is gone. */
  async drained(): Promise<void> {
    if (this.ended || !this.res.writableNeedDrain) return;
    let stop = (): void => undefined;
    const drain = new Promise<void>((resolve) => {
      this.res.once('drain', resolve);
      stop = () => this.res.off('drain', resolve);
    });
    await Promise.race([drain, this.closed]);
    stop();
  }

  end(): void {
    if (this.ended) return;
    this.markClosed();
    this.res.end();
  }

  private markClosed(): void {
    this.ended = true;
    this.signalClosed();
  }
}

export interface StreamOptions {
  readonly heartbeatMs: number;
  /** Reconnection delay suggested to clients (the `retry:` field). */
  readonly retryMs: number;
  /** Asked at each heartbeat; false (a revoked key, an expired token) ends the stream. */
  readonly stillAllowed: () => Promise<boolean>;
}

/**
 * The API's open event streams. `server.close()` waits for every open
 * connection, so shutdown (and a test's teardown) first ends these with
 * `closeAll`, which also waits for their loops to stop using the database.
 */
export class OpenStreams {
  private readonly running = new Map<SseStream, Promise<void>>();
  private readonly beats = new Set<Promise<void>>();
  private closing = false;

  constructor(private readonly log: Logger) {}

  get size(): number {
    return this.running.size;
  }

  /**
   * Answers 200 `text/event-stream` and runs `follow` until it returns, the
   * client leaves or the server closes. Past the headers an error can only
   * be logged and end the stream; the client resumes with Last-Event-ID.
   */
  open(res: Response, options: StreamOptions, follow: (stream: SseStream) => Promise<void>): void {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    // nginx and similar proxies would otherwise buffer the stream.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    const stream = new SseStream(res);
    res.write(`retry: ${options.retryMs}\n\n`);
    if (this.closing) {
      stream.end();
      return;
    }
    let checking = false;
    const heartbeat = setInterval(() => {
      if (checking) return;
      checking = true;
      const beat: Promise<void> = this.beat(stream, options).finally(() => {
        checking = false;
        this.beats.delete(beat);
      });
      this.beats.add(beat);
    }, options.heartbeatMs);
    const done = follow(stream)
      .catch((err: unknown) => this.log.error({ err }, 'event stream failed'))
      .finally(() => {
        clearInterval(heartbeat);
        stream.end();
        this.running.delete(stream);
      });
    this.running.set(stream, done);
  }

  /** Ends every stream and waits until none touches the database any more; streams opened later end at once. */
  async closeAll(): Promise<void> {
    this.closing = true;
    const open = [...this.running];
    for (const [stream] of open) stream.end();
    await Promise.all([...open.map(([, done]) => done), ...this.beats]);
  }

  private async beat(stream: SseStream, options: StreamOptions): Promise<void> {
    const allowed = await options.stillAllowed().catch(() => false);
    if (allowed) stream.comment('keep-alive');
    else stream.end();
  }
}
