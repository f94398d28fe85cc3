const BASELINES: Readonly<Record<string, number>> = { temp: 21, humidity: 45, pressure: 1013, co2: 600, voltage: 3.3, current: 0.5 };

/**
 * A device's readings messages from measurement to confirmation: each gets
 * the next sequence number and stays here until the platform confirms a
 * sequence at or above it (…/readings/committed). Bounded: past `max`
 * messages the oldest is dropped, which the platform sees as a gap.
 */
export class ReadingsBuffer {
  overflowed = 0;
  private seq: number;
  private readonly unconfirmed = new Map<number, string>();
  /** When the oldest kept message was last sent (or resent). */
  private oldestSentAt: number | undefined;
  private readonly values: number[];

  constructor(
    private readonly sensors: readonly string[],
    lastSeq: number,
    private readonly max: number,
  ) {
    this.seq = lastSeq;
    this.values = sensors.map((key) => BASELINES[key] ?? 50);
  }

  get lastSeq(): number {
    return this.seq;
  }

  get size(): number {
    return this.unconfirmed.size;
  }

  /** The next message (schemas/mqtt/readings.json): one value per sensor, a small random walk each. */
  next(now: Date): string {
    this.seq += 1;
    const ts = now.toISOString();
    const readings = this.sensors.map((sensor, i) => {
      const value = (this.values[i] ?? 0) + (Math.random() - 0.5) * 0.2;
      this.values[i] = value;
      return { sensor, ts, value: Math.round(value * 1000) / 1000 };
    });
    const payload = JSON.stringify({ seq: this.seq, readings });
    this.unconfirmed.set(this.seq, payload);
    this.oldestSentAt ??= now.getTime();
    if (this.unconfirmed.size > this.max) {
      const [oldest] = this.unconfirmed.keys();
      if (oldest !== undefined) this.unconfirmed.delete(oldest);
      this.overflowed += 1;
    }
    return payload;
  }

  /** Everything up to `seq` is stored on the platform. */
  confirm(seq: number, now = Date.now()): void {
    let dropped = false;
    for (const kept of [...this.unconfirmed.keys()]) {
      if (kept > seq) break;
      this.unconfirmed.delete(kept);
      dropped = true;
    }
    if (this.unconfirmed.size === 0) this.oldestSentAt = undefined;
    else if (dropped) this.oldestSentAt = now;
  }

  /** What to send again after a reconnect, oldest first. */
  pending(now = Date.now()): string[] {
    if (this.unconfirmed.size > 0) this.oldestSentAt = now;
    return [...this.unconfirmed.values()];
  }

  /** Whether confirmations stalled: the oldest kept message has waited `afterMs` since it was (re)sent. */
  stalled(now: number, afterMs: number): boolean {
    return this.oldestSentAt !== undefined && now - this.oldestSentAt >= afterMs;
  }
}
