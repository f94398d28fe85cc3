import { TLSSocket, type PeerCertificate } from 'node:tls';
import { INTERNAL_IDENTITY_PREFIX } from '../pki/certificate-issuer';

/**
 * Who is on the other end of a broker connection, read from the client
 * certificate the TLS handshake verified against the device CA. The MQTT
 * client id and username are never trusted for this.
 */
export type BrokerIdentity =
  | { readonly kind: 'device'; readonly deviceId: string; readonly orgId: string; readonly clientId: string; readonly serialNumber: string }
  | { readonly kind: 'internal'; readonly name: string; readonly clientId: string; readonly serialNumber: string };

export type DeviceIdentity = Extract<BrokerIdentity, { kind: 'device' }>;

export type IdentityResult = { readonly ok: true; readonly identity: BrokerIdentity } | { readonly ok: false; readonly reason: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const INTERNAL_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const HEX = /^[0-9a-f]+$/;
const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/**
 * One spelling for serials: Node prints them in upper case, the issuer and
 * the CRL in lower case, and either may carry leading zeros.
 */
export function normalizeSerial(serial: string): string | undefined {
  const lower = serial.trim().toLowerCase().replace(/:/g, '');
  if (!HEX.test(lower)) return undefined;
  return lower.replace(/^0+(?=.)/, '');
}

export function identify(conn: unknown): IdentityResult {
  // Only the TLS listener hands sockets to the broker; anything else has no verified certificate.
  if (!(conn instanceof TLSSocket)) return { ok: false, reason: 'not a TLS connection' };
  if (!conn.authorized) return { ok: false, reason: 'client certificate not verified' };
  const certificate: PeerCertificate = conn.getPeerCertificate();
  if (certificate === null || Object.keys(certificate).length === 0) return { ok: false, reason: 'no client certificate' };
  const serialNumber = normalizeSerial(certificate.serialNumber ?? '');
  if (serialNumber === undefined) return { ok: false, reason: 'certificate has no readable serial number' };
  // The server certificate is signed by the same CA; only clientAuth certificates identify clients.
  const usage = certificate.ext_key_usage;
  if (usage !== undefined && !usage.includes(CLIENT_AUTH_OID)) return { ok: false, reason: 'certificate is not for client authentication' };
  const commonName = single(certificate.subject?.CN);
  if (commonName === undefined) return { ok: false, reason: 'certificate has no single common name' };
  if (UUID.test(commonName)) {
    const orgId = single(certificate.subject?.O);
    if (orgId === undefined || !UUID.test(orgId)) return { ok: false, reason: 'device certificate has no organization' };
    return { ok: true, identity: { kind: 'device', deviceId: commonName, orgId, clientId: commonName, serialNumber } };
  }
  const name = commonName.startsWith(INTERNAL_IDENTITY_PREFIX) ? commonName.slice(INTERNAL_IDENTITY_PREFIX.length) : undefined;
  if (name !== undefined && INTERNAL_NAME.test(name)) {
    return { ok: true, identity: { kind: 'internal', name, clientId: commonName, serialNumber } };
  }
  return { ok: false, reason: 'certificate common name is neither a device id nor an internal identity' };
}

/** Subject fields repeat as arrays; a certificate with two CNs identifies nobody. */
function single(value: string | string[] | undefined): string | undefined {
  if (typeof value === 'string') return value;
  return undefined;
}
