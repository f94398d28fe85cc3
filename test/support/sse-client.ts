import http from 'node:http';
import { waitUntil } from './wait-until';

export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

/**
 * A Server-Sent Events reader over plain node:http, parsing what arrives the
 * way EventSource does (blocks split by a blank line, `field: value` lines,
 * comments starting with a colon).
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** Everything received, as sent. */
  text = '';
  ended = false;
  private pending = '';

  private constructor(
    private readonly request: http.ClientRequest,
    readonly response: http.IncomingMessage,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.text += chunk;
      this.pending += chunk;
      this.parse();
    });
    response.on('close', () => {
      this.ended = true;
    });
  }

  static open(url: string, headers: Readonly<Record<string, string>>): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const request = http.get(url, { headers: { Accept: 'text/event-stream', ...headers } }, (response) => resolve(new SseClient(request, response)));
      request.on('error', reject);
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  /** The data of every event, parsed as JSON. */
  entries<T>(): T[] {
    return this.events.map((e) => JSON.parse(e.data) as T);
  }

  async until(what: string, condition: (client: SseClient) => boolean, timeoutMs = 10_000): Promise<void> {
    await waitUntil(what, () => condition(this), timeoutMs, 10);
  }

  /** Waits for the `: live` comment that ends the backlog. */
  live(): Promise<void> {
    return this.until('the stream is live', (c) => c.comments.includes('live'));
  }

  close(): void {
    this.request.destroy();
  }

  private parse(): void {
    for (let end = this.pending.indexOf('\n\n'); end >= 0; end = this.pending.indexOf('\n\n')) {
      const block = this.pending.slice(0, end);
      this.pending = this.pending.slice(end + 2);
      let id: string | undefined;
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          this.comments.push(line.slice(1).trim());
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') id = value;
        else if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) this.events.push({ id, event, data: data.join('\n') });
    }
  }
}
