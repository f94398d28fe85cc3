import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { connectAsync } from 'mqtt';
import { issueDeviceCertificate } from '../pki/certificate-issuer';
import type { DeviceCa } from '../pki/device-ca';
import { x509 } from '../pki/keys';

/**
 * Cuts the live Mosquitto session of a device. Mosquitto checks the CRL
 * only at the TLS handshake, so a session opened before a revocation
 * survives the reload (test/mosquitto-revocation.test.ts shows it), and the
 * platform's own identities cannot take a device's session over: the client
 * id is always the certificate CN (use_username_as_clientid). A certificate
 * whose CN is the device id can: the CA issues one, it connects with a clean
 * session, which makes Mosquitto close the device's connection, and leaves.
 * The device's reconnect then meets the new CRL. The key lives in memory
 * only, and the certificate's serial is returned so the caller revokes it too.
 */
export type SessionKicker = (device: { readonly deviceId: string; readonly orgId: string }) => Promise<string>;

export interface SessionKickOptions {
  /** `mqtts://host:port` of the Mosquitto listener, as reached from this process. */
  readonly url: string;
  readonly ca: DeviceCa;
  readonly connectTimeoutMs?: number;
}

const generateEcKeyPair = promisify(generateKeyPair);
/** The shortest validity the issuer allows; the serial is revoked right after use anyway. */
const KICK_CERTIFICATE_DAYS = 1;

export function mosquittoSessionKicker(options: SessionKickOptions): SessionKicker {
  return async ({ deviceId, orgId }) => {
    const { publicKey, privateKey } = await generateEcKeyPair('ec', { namedCurve: 'P-256' });
    const issued = await issueDeviceCertificate(options.ca, {
      publicKey: new x509.PublicKey(publicKey.export({ format: 'der', type: 'spki' })),
      deviceId,
      orgId,
      validityDays: KICK_CERTIFICATE_DAYS,
      now: new Date(),
    });
    // allowRetries false: a refused connection rejects instead of retrying forever.
    const client = await connectAsync(
      options.url,
      {
        clientId: deviceId,
        clean: true,
        protocolVersion: 4,
        key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        cert: issued.certificatePem,
        ca: [options.ca.certificatePem],
        rejectUnauthorized: true,
        reconnectPeriod: 0,
        connectTimeout: options.connectTimeoutMs ?? 5000,
      },
      false,
    );
    await client.endAsync();
    return issued.serialNumber;
  };
}
