import { Registry, collectDefaultMetrics } from 'prom-client';

/** The process's Prometheus registry: Node's own metrics (event loop lag, heap, GC) plus what each part registers. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'iotplane_' });
  return registry;
}
