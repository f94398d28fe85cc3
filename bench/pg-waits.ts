import pg from 'pg';

/**
 * What a set of Postgres sessions is doing, sampled from pg_stat_activity
 * every few milliseconds: for each (statement, wait) pair, how many of the
 * sessions were in it on average (0…number of sessions). "CPU" is an active
 * session with no wait event: running, or waiting for a core.
 */
export type WaitProfile = Record<string, number>;

function statementKind(query: string): string {
  if (/^\s*COPY\b/i.test(query)) return 'COPY';
  if (/ingest_record_sequence_runs/.test(query)) return 'ingest_record_sequence_runs';
  if (/^\s*COMMIT\b/i.test(query)) return 'COMMIT';
  if (/^\s*BEGIN\b/i.test(query)) return 'BEGIN';
  if (/readings_ensure_partition/.test(query)) return 'ensure partition';
  return 'other';
}

export class WaitSampler {
  private readonly counts = new Map<string, number>();
  private samples = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  private constructor(
    private readonly client: pg.Client,
    private readonly applicationName: string,
  ) {}

  /** Samples the sessions whose application_name is `applicationName` every `intervalMs`. */
  static async start(url: string, applicationName: string, intervalMs = 20): Promise<WaitSampler> {
    const client = new pg.Client({ connectionString: url, application_name: 'iotplane-bench-sampler' });
    await client.connect();
    const sampler = new WaitSampler(client, applicationName);
    sampler.timer = setInterval(() => void sampler.sample(), intervalMs);
    return sampler;
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const { rows } = await this.client.query<{ query: string; wait: string | null }>(
        `SELECT query, wait_event_type || ':' || wait_event AS wait FROM pg_stat_activity
          WHERE application_name = $1 AND state = 'active' AND pid <> pg_backend_pid()`,
        [this.applicationName],
      );
      this.samples += 1;
      for (const row of rows) {
        const key = `${statementKind(row.query)} ${row.wait ?? 'CPU'}`;
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      }
    } catch {
      // A lost sample changes nothing.
    } finally {
      this.busy = false;
    }
  }

  /** Stops and returns the average number of sessions per (statement, wait), largest first. */
  async stop(): Promise<WaitProfile> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.client.end();
    const profile: WaitProfile = {};
    for (const [key, count] of [...this.counts.entries()].sort((a, b) => b[1] - a[1])) profile[key] = count / Math.max(1, this.samples);
    return profile;
  }
}

export function describeWaits(profile: WaitProfile, top = 6): string {
  const entries = Object.entries(profile).slice(0, top);
  const busy = Object.values(profile).reduce((sum, v) => sum + v, 0);
  return `${busy.toFixed(2)} sessions active on average: ${entries.map(([key, v]) => `${key} ${v.toFixed(2)}`).join(', ')}`;
}
