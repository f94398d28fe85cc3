import net from 'node:net';
import { freePort } from '../src/platform/db/embedded-postgres';
import { startTestApi, type TestApi } from './support/test-api';

describe('liveness and readiness', () => {
  let api: TestApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('answers /healthz, and /readyz 503 naming the broker while it is unreachable', async () => {
    api = await startTestApi({ MQTT_PORT: String(await freePort()) });
    await api.http().get('/healthz').expect(200, { status: 'ok' });
    const ready = await api.http().get('/readyz').expect(503);
    expect(ready.body).toEqual({ status: 'unavailable', checks: { database: true, eventStore: true, projections: true, broker: false } });
  });

  it('is ready when the database, the event store, the projections and the broker answer', async () => {
    const broker = net.createServer((socket) => socket.end());
    const port = await new Promise<number>((resolve) => broker.listen(0, '127.0.0.1', () => resolve((broker.address() as net.AddressInfo).port)));
    try {
      api = await startTestApi({ MQTT_PORT: String(port) });
      const ready = await api.http().get('/readyz').expect(200);
      expect(ready.body.checks).toEqual({ database: true, eventStore: true, projections: true, broker: true });
    } finally {
      await new Promise((resolve) => broker.close(resolve));
    }
  });
});
