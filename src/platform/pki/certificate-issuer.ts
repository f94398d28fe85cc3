import { isIP } from 'node:net';
import { ValidationError } from '../errors';
import { acceptDeviceKey } from './csr';
import type { DeviceCa } from './device-ca.validation';
import { x509 } from './keys';
import { signLeaf, signWithNewKey, type IssuedCertificate, type IssuedCertificateWithKey } from './leaf-certificate';

export type { IssuedCertificate, IssuedCertificateWithKey } from './leaf-certificate';

export interface DeviceCertificateRequest {
  /** From `checkCsr`; nothing else from the CSR reaches the certificate. */
  readonly publicKey: x509.PublicKey;
  readonly deviceId: string;
  readonly orgId: string;
  readonly validityDays?: number;
  readonly now: Date;
}

export const DEVICE_CERTIFICATE_DAYS = 90;
export const PLATFORM_CERTIFICATE_DAYS = 397;
/** Internal client CNs carry this prefix, so they can never equal a device id (a UUID). */
export const INTERNAL_IDENTITY_PREFIX = 'iotplane:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const INTERNAL_NAME = /^[a-z][a-z0-9-]{0,62}$/;

export function deviceUri(orgId: string, deviceId: string): string {
  return `urn:iotplane:org:${orgId}:device:${deviceId}`;
}

export async function issueDeviceCertificate(ca: DeviceCa, request: DeviceCertificateRequest): Promise<IssuedCertificate> {
  // Lowercase UUIDs only: the CN is the broker identity and ACL key, and it must not collide with an internal name.
  for (const [field, value] of [['deviceId', request.deviceId], ['orgId', request.orgId]] as const) {
    if (!UUID.test(value)) throw new ValidationError(`${field} must be a lowercase UUID.`, [{ path: field, message: 'not a lowercase UUID' }]);
  }
  const key = acceptDeviceKey(request.publicKey);
  const { digitalSignature, keyEncipherment } = x509.KeyUsageFlags;
  return signLeaf(ca, {
    publicKey: request.publicKey,
    subject: [{ CN: [request.deviceId] }, { O: [request.orgId] }],
    altNames: [{ type: 'url', value: deviceUri(request.orgId, request.deviceId) }],
    // RSA clients may still negotiate RSA key transport; EC keys only ever sign.
    keyUsage: key.kind === 'rsa' ? digitalSignature | keyEncipherment : digitalSignature,
    extendedKeyUsage: x509.ExtendedKeyUsage.clientAuth,
    validityDays: request.validityDays ?? DEVICE_CERTIFICATE_DAYS,
    now: request.now,
  });
}

export interface ServerCertificateRequest {
  readonly hostnames: readonly string[];
  readonly ips?: readonly string[];
  readonly validityDays?: number;
  readonly now?: Date;
}

/** The broker's TLS certificate, with a key pair generated here. */
export async function issueServerCertificate(ca: DeviceCa, request: ServerCertificateRequest): Promise<IssuedCertificateWithKey> {
  const ips = request.ips ?? [];
  const badHost = request.hostnames.find((h) => !HOSTNAME.test(h));
  if (badHost !== undefined) throw new ValidationError(`"${badHost}" is not a valid hostname.`);
  const badIp = ips.find((ip) => isIP(ip) === 0);
  if (badIp !== undefined) throw new ValidationError(`"${badIp}" is not an IP address.`);
  const commonName = request.hostnames[0] ?? ips[0];
  if (commonName === undefined) throw new ValidationError('A server certificate needs at least one hostname or IP address.');
  return signWithNewKey(ca, {
    subject: [{ CN: [commonName] }],
    altNames: [...request.hostnames.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))],
    keyUsage: x509.KeyUsageFlags.digitalSignature,
    extendedKeyUsage: x509.ExtendedKeyUsage.serverAuth,
    validityDays: request.validityDays ?? PLATFORM_CERTIFICATE_DAYS,
    now: request.now ?? new Date(),
  });
}

export interface InternalClientCertificateRequest {
  /** Lowercase service name, e.g. "ingest"; the CN becomes "iotplane:ingest". */
  readonly name: string;
  readonly validityDays?: number;
  readonly now?: Date;
}

/** A client certificate for the platform's own MQTT connections, with a key pair generated here. */
export async function issueInternalClientCertificate(ca: DeviceCa, request: InternalClientCertificateRequest): Promise<IssuedCertificateWithKey> {
  if (!INTERNAL_NAME.test(request.name)) throw new ValidationError(`"${request.name}" is not a valid internal client name (a-z, 0-9, "-").`);
  return signWithNewKey(ca, {
    subject: [{ CN: [`${INTERNAL_IDENTITY_PREFIX}${request.name}`] }],
    altNames: [{ type: 'url', value: `urn:iotplane:internal:${request.name}` }],
    keyUsage: x509.KeyUsageFlags.digitalSignature,
    extendedKeyUsage: x509.ExtendedKeyUsage.clientAuth,
    validityDays: request.validityDays ?? PLATFORM_CERTIFICATE_DAYS,
    now: request.now ?? new Date(),
  });
}
