import { SimulatedDevice } from '../../src/cli/simulator/simulated-device';
import type { TestDevice } from './mqtt-clients';

/**
 * The simulator's device (src/cli/simulator) for an enrolled test identity:
 * a heartbeat on connect, commands answered, desired state applied and
 * reported; no sensors, heartbeats a minute apart. Not started.
 */
export function simulatedDevice(identity: TestDevice, mqttUrl: string, caPem: string): SimulatedDevice {
  return new SimulatedDevice(
    {
      deviceId: identity.deviceId,
      orgId: identity.orgId,
      apiUrl: 'http://unused.test',
      mqttUrl,
      sensors: [],
      keyPem: identity.key,
      certificatePem: identity.cert,
      caPem,
      lastSeq: 0,
    },
    { heartbeatMs: 60_000, maxUnconfirmed: 10 },
  );
}
