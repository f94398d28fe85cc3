/** A batch's message sequence numbers as runs of consecutive numbers, the shape the database takes them in. */
export interface SequenceRuns {
  readonly orgIds: string[];
  readonly deviceIds: string[];
  readonly froms: number[];
  readonly tos: number[];
  /** Messages behind each run (a number delivered twice counts twice). */
  readonly counts: number[];
}

interface DeviceSequences {
  readonly orgId: string;
  readonly seqs: number[];
}

/**
 * The sequence numbers of the messages a batch stores, by device. They go
 * to `ingest_record_sequence_runs` as runs — one per device and batch when
 * nothing is missing — rather than one array element per message: a batch
 * of 5,000 single-reading messages from 50 devices is 50 runs, so neither
 * the client nor the database handles 5,000 uuids twice.
 */
export class MessageSequences {
  private readonly devices = new Map<string, DeviceSequences>();
  private messages = 0;

  add(orgId: string, deviceId: string, seq: number): void {
    let device = this.devices.get(deviceId);
    if (device === undefined) {
      device = { orgId, seqs: [] };
      this.devices.set(deviceId, device);
    }
    device.seqs.push(seq);
    this.messages += 1;
  }

  addAll(other: MessageSequences): void {
    for (const [deviceId, { orgId, seqs }] of other.devices) for (const seq of seqs) this.add(orgId, deviceId, seq);
  }

  /** Messages with a sequence number. */
  get size(): number {
    return this.messages;
  }

  runs(): SequenceRuns {
    const runs: SequenceRuns = { orgIds: [], deviceIds: [], froms: [], tos: [], counts: [] };
    for (const [deviceId, { orgId, seqs }] of this.devices) {
      seqs.sort((a, b) => a - b);
      let from = seqs[0] ?? 0;
      let to = from;
      let count = 0;
      for (const seq of seqs) {
        if (seq > to + 1) {
          runs.orgIds.push(orgId);
          runs.deviceIds.push(deviceId);
          runs.froms.push(from);
          runs.tos.push(to);
          runs.counts.push(count);
          from = seq;
          count = 0;
        }
        to = seq;
        count += 1;
      }
      runs.orgIds.push(orgId);
      runs.deviceIds.push(deviceId);
      runs.froms.push(from);
      runs.tos.push(to);
      runs.counts.push(count);
    }
    return runs;
  }
}
