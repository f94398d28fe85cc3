const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

/**
 * Runs `fn` until it succeeds, waiting 0.1 s, 0.2 s, … up to 5 s between
 * attempts: what the pipeline has taken is never dropped for a database
 * that is down or slow. `onFailure` reports each failed attempt.
 */
export async function untilItSucceeds<T>(fn: () => Promise<T>, onFailure: (error: unknown, attempt: number, retryInMs: number) => void): Promise<T> {
  let backoff = FIRST_BACKOFF_MS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      onFailure(error, attempt, backoff);
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }
}
