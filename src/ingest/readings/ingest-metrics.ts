import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The ingest pipeline's Prometheus metrics (served on /metrics). Rows per
 * second is `rate(iotplane_ingest_readings_total{outcome="stored"}[1m])`.
 */
export class IngestMetrics {
  readonly readings: Counter<'outcome' | 'source'>;
  readonly quarantined: Counter<'reason' | 'source'>;
  readonly rejected: Counter<'reason' | 'source'>;
  readonly messages: Counter<'source'>;
  readonly batchRows: Histogram;
  readonly batchSeconds: Histogram;
  readonly bufferedRows: Gauge;
  readonly sequenceGaps: Counter;
  readonly missingMessages: Counter;
  readonly unattributed: Counter;

  /**
   * The MQTT hot path's counts as plain numbers, moved into the counters
   * when they are read (a prom-client increment per message cost 6 % of
   * the ingester's CPU).
   */
  readonly hot = { mqttMessages: 0, mqttAccepted: 0 };

  constructor(registry: Registry, bufferedRows: () => number) {
    const registers = [registry];
    const hot = this.hot;
    this.readings = new Counter({
      name: 'iotplane_ingest_readings_total',
      help: 'Readings by outcome (accepted, duplicate, quarantined) and door (MQTT, HTTP).',
      labelNames: ['outcome', 'source'],
      registers,
      collect() {
        this.inc({ outcome: 'accepted', source: 'MQTT' }, hot.mqttAccepted);
        hot.mqttAccepted = 0;
      },
    });
    this.quarantined = new Counter({ name: 'iotplane_ingest_quarantined_total', help: 'Quarantined items (a reading, or a whole unreadable message) by reason.', labelNames: ['reason', 'source'], registers });
    this.rejected = new Counter({ name: 'iotplane_ingest_rejected_total', help: 'Messages or items refused because they cannot be attributed to an organization, by reason.', labelNames: ['reason', 'source'], registers });
    this.messages = new Counter({
      name: 'iotplane_ingest_messages_total',
      help: 'Readings messages (MQTT) and batch requests (HTTP) received.',
      labelNames: ['source'],
      registers,
      collect() {
        this.inc({ source: 'MQTT' }, hot.mqttMessages);
        hot.mqttMessages = 0;
      },
    });
    this.batchRows = new Histogram({ name: 'iotplane_ingest_batch_rows', help: 'Rows per database transaction.', buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000], registers });
    this.batchSeconds = new Histogram({ name: 'iotplane_ingest_batch_seconds', help: 'Time to write one batch (COPY, quarantine, sequence numbers, commit).', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers });
    this.bufferedRows = new Gauge({
      name: 'iotplane_ingest_buffered_rows',
      help: 'Rows received and not yet committed.',
      registers,
      collect() {
        this.set(bufferedRows());
      },
    });
    this.sequenceGaps = new Counter({ name: 'iotplane_ingest_sequence_gaps_total', help: 'Holes in devices’ message sequence numbers that were never filled.', registers });
    this.missingMessages = new Counter({ name: 'iotplane_ingest_missing_messages_total', help: 'Messages those holes stand for.', registers });
    this.unattributed = new Counter({ name: 'iotplane_ingest_unattributed_messages_total', help: 'Messages on a readings topic that name no device.', registers });
  }
}
