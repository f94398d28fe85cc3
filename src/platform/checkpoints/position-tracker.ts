import { comparePositions, type Position } from '../event-store/event-store.port';

/** How far a follower of the log has got, for callers that wait for it (tests, read-your-writes). */
export class PositionTracker {
  private at: Position | undefined;
  private readonly waiters = new Set<() => void>();

  advance(position: Position): void {
    if (this.at && comparePositions(position, this.at) <= 0) return;
    this.at = position;
    for (const check of this.waiters) check();
  }

  /** Resolves true once `position` is reached, false after `timeoutMs`. */
  reached(position: Position, timeoutMs: number): Promise<boolean> {
    const done = (): boolean => this.at !== undefined && comparePositions(this.at, position) >= 0;
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(result);
      };
      const check = (): void => {
        if (done()) finish(true);
      };
      const timer = setTimeout(() => finish(done()), timeoutMs);
      this.waiters.add(check);
    });
  }
}
