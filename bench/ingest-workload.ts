import { CopyRows } from '../src/ingest/readings/copy-rows';

/** A device of the bench organization with the sensors its messages name. */
export interface WorkloadDevice {
  readonly deviceId: string;
  readonly orgId: string;
  readonly sensors: readonly { readonly key: string; readonly sensorId: string }[];
}

/**
 * Every message every device sends in one run, generated before the clock
 * starts (schemas/mqtt/readings.json, full form): device d's message k has
 * `seq` k (1…messagesPerDevice) and `readingsPerMessage` readings spread
 * round robin over its sensors, each sensor's timestamps 10 ms apart, so no
 * two readings share (sensor, ts) and all fall in the last hour.
 */
export interface Workload {
  readonly name: string;
  readonly devices: readonly WorkloadDevice[];
  readonly readingsPerMessage: number;
  readonly messagesPerDevice: number;
  readonly messages: number;
  readonly readings: number;
  /** Device index, seq → the MQTT payload. */
  payload(device: number, seq: number): Buffer;
  /**
   * The rows the pipeline would store, encoded as the ingester encodes them
   * (binary COPY rows), in arrival order (seq-major, devices round robin, as
   * the publishers send them), cut into chunks of `rowsPerChunk`.
   */
  copyChunks(rowsPerChunk: number, receivedMs: number): { readonly data: CopyRows; readonly rows: number }[];
}

const STEP_MS = 10;

interface Reading {
  readonly sensor: number;
  readonly ts: string;
  readonly value: number;
}

export function buildWorkload(name: string, devices: readonly WorkloadDevice[], readingsPerMessage: number, messagesPerDevice: number): Workload {
  const base = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
  const sensorsPerDevice = Math.min(...devices.map((d) => d.sensors.length));
  if (!(sensorsPerDevice >= 1)) throw new Error('every workload device needs a sensor');
  const readingOf = (seq: number, j: number): Reading => {
    // The device's g-th reading overall: sensor g mod S, that sensor's (g div S)-th timestamp.
    const g = (seq - 1) * readingsPerMessage + j;
    return { sensor: g % sensorsPerDevice, ts: new Date(base + Math.floor(g / sensorsPerDevice) * STEP_MS).toISOString(), value: 20 + ((g * 37) % 1000) / 100 };
  };
  const payloads = devices.map((device) =>
    Array.from({ length: messagesPerDevice }, (_, k) => {
      const readings = Array.from({ length: readingsPerMessage }, (__, j) => {
        const r = readingOf(k + 1, j);
        return { sensor: device.sensors[r.sensor]?.key ?? '', ts: r.ts, value: r.value };
      });
      return Buffer.from(JSON.stringify({ seq: k + 1, readings }));
    }),
  );
  const messages = devices.length * messagesPerDevice;
  return {
    name,
    devices,
    readingsPerMessage,
    messagesPerDevice,
    messages,
    readings: messages * readingsPerMessage,
    payload(device, seq) {
      const payload = payloads[device]?.[seq - 1];
      if (payload === undefined) throw new Error(`${name} has no message ${seq} for device ${device}`);
      return payload;
    },
    copyChunks(rowsPerChunk, receivedMs) {
      const chunks: { data: CopyRows; rows: number }[] = [];
      const owners = devices.map((device) => device.sensors.map((s) => ({ orgId: device.orgId, deviceId: device.deviceId, sensorId: s.sensorId })));
      let data = new CopyRows();
      let rows = 0;
      const flush = (): void => {
        if (rows === 0) return;
        chunks.push({ data, rows });
        data = new CopyRows();
        rows = 0;
      };
      for (let seq = 1; seq <= messagesPerDevice; seq += 1) {
        owners.forEach((sensors) => {
          for (let j = 0; j < readingsPerMessage; j += 1) {
            const r = readingOf(seq, j);
            const owner = sensors[r.sensor];
            if (owner === undefined) throw new Error('a workload device lacks a sensor');
            data.append(owner, { tsMicros: Date.parse(r.ts) * 1000, value: r.value, quality: 0 }, receivedMs, seq);
            rows += 1;
            if (rows >= rowsPerChunk) flush();
          }
        });
      }
      flush();
      return chunks;
    },
  };
}
