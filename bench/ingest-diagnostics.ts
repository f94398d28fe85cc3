import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { IngestMetrics } from '../src/ingest/readings/ingest-metrics';
import { DEFAULT_BATCHER_OPTIONS, ReadingsBatcher } from '../src/ingest/readings/readings-batcher';
import { decodeReadingsMessage } from '../src/ingest/readings/readings-message';
import { ReadingsPipeline } from '../src/ingest/readings/readings-pipeline';
import { CopyRows } from '../src/ingest/readings/copy-rows';
import { MessageSequences } from '../src/ingest/readings/message-sequences';
import type { DeviceEntry, SensorDirectory, SensorEntry } from '../src/ingest/readings/sensor-directory';
import type { Pool } from '../src/platform/db/pool';
import { asWriter } from '../src/platform/db/roles';
import { createLogger } from '../src/platform/logger';
import type { Workload } from './ingest-workload';

/**
 * Where the ingester's time goes, measured piece by piece outside the
 * pipeline: decoding (JSON.parse + the schema check of
 * decodeReadingsMessage, plus the binary COPY row per reading), and the sequence
 * bookkeeping `ingest_record_sequence_runs` for the batch shapes the runs produce.
 */
export interface DecodeFigures {
  readonly workload: string;
  readonly messages: number;
  /** One core, microseconds. */
  readonly microsPerMessage: number;
  readonly microsPerReading: number;
  readonly messagesPerSecond: number;
  readonly readingsPerSecond: number;
}

/** Decodes the workload's payloads (at most `limit`) and encodes their COPY rows, on this thread, for at least a second. */
export function decodeCost(workload: Workload, limit: number): DecodeFigures {
  const payloads: Buffer[] = [];
  for (let seq = 1; seq <= workload.messagesPerDevice && payloads.length < limit; seq += 1) {
    workload.devices.forEach((_, d) => payloads.push(workload.payload(d, seq)));
  }
  const received = Date.now();
  const owner = workload.devices[0]?.sensors[0];
  if (owner === undefined) throw new Error('the workload has no sensor');
  const row = { orgId: workload.devices[0]?.orgId ?? '', deviceId: workload.devices[0]?.deviceId ?? '', sensorId: owner.sensorId };
  // Kept, so the rows are not optimised away.
  let sink = 0;
  const once = (): number => {
    let lines = 0;
    const rows = new CopyRows();
    for (const payload of payloads) {
      const decoded = decodeReadingsMessage(payload);
      if (!decoded.ok) throw new Error(`bench payload does not decode: ${decoded.detail}`);
      for (const item of decoded.items) {
        if (!item.ok) throw new Error(`bench reading does not decode: ${item.detail}`);
        rows.append(row, item.reading, received, decoded.seq);
        lines += 1;
      }
    }
    sink += rows.byteLength;
    return lines;
  };
  once(); // warm-up
  let messages = 0;
  let readings = 0;
  const started = performance.now();
  while (performance.now() - started < 1000) {
    readings += once();
    messages += payloads.length;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    workload: workload.name,
    messages,
    microsPerMessage: sink > 0 ? (seconds * 1e6) / messages : Number.NaN,
    microsPerReading: (seconds * 1e6) / readings,
    messagesPerSecond: messages / seconds,
    readingsPerSecond: readings / seconds,
  };
}

export interface SequenceFigures {
  readonly shape: string;
  /** Sequence numbers per call (one per message of the batch) and devices among them. */
  readonly seqsPerCall: number;
  readonly devices: number;
  readonly calls: number;
  /** Milliseconds per call, its own transaction each. */
  readonly msPerCall: number;
}

/**
 * `ingest_record_sequence_runs` as the writer calls it once per batch, for a
 * batch of `messagesPerCall` consecutive messages spread round robin over
 * the workload's devices (as a batch of 5,000 rows holds 50 messages of 100
 * readings, or 5,000 of one); committed, `calls` times, on fresh bookkeeping.
 */
export async function recordSequencesCost(pool: Pool, workload: Workload, messagesPerCall: number, calls: number): Promise<SequenceFigures> {
  const devices = workload.devices;
  const nextSeq = devices.map(() => 1);
  let cursor = 0;
  const call = async (): Promise<number> => {
    const sequences = new MessageSequences();
    for (let i = 0; i < messagesPerCall; i += 1) {
      const d = cursor % devices.length;
      cursor += 1;
      const device = devices[d];
      if (!device) continue;
      sequences.add(device.orgId, device.deviceId, nextSeq[d] ?? 1);
      nextSeq[d] = (nextSeq[d] ?? 1) + 1;
    }
    const started = performance.now();
    const runs = sequences.runs();
    await asWriter(pool, (tx) =>
      tx.query('SELECT * FROM ingest_record_sequence_runs($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[], $5::int[])', [runs.orgIds, runs.deviceIds, runs.froms, runs.tos, runs.counts]),
    );
    return performance.now() - started;
  };
  await call(); // creates the devices' rows, as the runs' first messages do
  let total = 0;
  for (let i = 0; i < calls; i += 1) total += await call();
  return {
    shape: `${messagesPerCall.toLocaleString('en')} messages per batch`,
    seqsPerCall: messagesPerCall,
    devices: Math.min(devices.length, messagesPerCall),
    calls,
    msPerCall: total / calls,
  };
}

export interface PipelineFigures {
  readonly workload: string;
  readonly messages: number;
  /** CPU of this process per message and per reading, microseconds. */
  readonly microsPerMessage: number;
  readonly microsPerReading: number;
  readonly batches: number;
}

/**
 * The ingester's pipeline (ReadingsPipeline → ReadingsBatcher) over the
 * workload's payloads in this process, with neither MQTT nor a database: the
 * sensor directory answers from memory (every device cached, as in a steady
 * state) and the writer only counts each batch's COPY bytes. What is left of
 * the ingester's CPU per message besides this is MQTT, TLS, the pg client
 * and the confirmations.
 */
export async function pipelineCost(workload: Workload, limit: number): Promise<PipelineFigures> {
  const entries = new Map<string, DeviceEntry>();
  for (const d of workload.devices) {
    const sensors = new Map<string, SensorEntry>(d.sensors.map((s) => [s.key, { sensorId: s.sensorId, orgId: d.orgId, deviceId: d.deviceId, key: s.key, validRange: null, retentionDays: 395 }]));
    entries.set(d.deviceId, { orgId: d.orgId, deviceId: d.deviceId, decommissioned: false, loadedAt: Date.now(), sensors });
  }
  const lookup = async (deviceId: string) => entries.get(deviceId);
  // The pipeline reads the directory through these four methods only.
  const directory = {
    peek: (deviceId: string) => entries.get(deviceId),
    device: lookup,
    sensor: async (deviceId: string, key: string) => entries.get(deviceId)?.sensors.get(key),
    sensorById: async () => undefined,
  } as unknown as SensorDirectory;
  const log = createLogger('warn');
  let batches = 0;
  let sink = 0;
  const batcher = new ReadingsBatcher(
    async (batch) => {
      batches += 1;
      sink += batch.copy.byteLength;
      return { inserted: batch.readingRows, duplicates: 0, committed: [], refused: [], dropped: 0 };
    },
    () => undefined,
    log,
    DEFAULT_BATCHER_OPTIONS,
  );
  const metrics = new IngestMetrics(new Registry(), () => batcher.bufferedRows);
  const window = { maxFutureMs: 300_000, maxAgeMs: 168 * 3_600_000 };
  const releasesNothing = (): Promise<never> => Promise.reject(new Error('the bench releases no quarantine entry'));
  const pipeline = new ReadingsPipeline(directory, batcher, releasesNothing, metrics, { live: window, backfill: window }, log);
  const run = async (): Promise<number> => {
    let messages = 0;
    // As the MQTT door keeps them: the messages that needed a lookup, until taken.
    const inFlight = new Set<Promise<unknown>>();
    for (let seq = 1; seq <= workload.messagesPerDevice && messages < limit; seq += 1) {
      for (const [d, device] of workload.devices.entries()) {
        if (!pipeline.hasRoom()) await pipeline.waitForRoom();
        const taken = pipeline.takeDeviceMessage(device.deviceId, workload.payload(d, seq));
        if (taken !== true) {
          inFlight.add(taken);
          void taken.finally(() => inFlight.delete(taken));
        }
        messages += 1;
      }
    }
    await batcher.drain();
    while (inFlight.size > 0) await Promise.all(inFlight);
    return messages;
  };
  await run(); // warm-up
  batches = 0;
  const cpu = process.cpuUsage();
  const messages = await run();
  const used = process.cpuUsage(cpu);
  const micros = sink > 0 ? used.user + used.system : Number.NaN;
  return { workload: workload.name, messages, microsPerMessage: micros / messages, microsPerReading: micros / (messages * workload.readingsPerMessage), batches };
}
