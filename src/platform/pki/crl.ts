import { ValidationError } from '../errors';
import type { DeviceCa } from './device-ca.validation';
import { toPem, x509 } from './keys';

/** RFC 5280 reason names; removeFromCRL is left out because it only belongs in delta CRLs. */
export type RevocationReason = Exclude<keyof typeof x509.X509CrlReason, 'removeFromCRL'>;

export interface RevokedCertificateEntry {
  /** Hex, as `issueDeviceCertificate` returned it. */
  readonly serialNumber: string;
  readonly revokedAt: string;
  readonly reason?: RevocationReason;
}

export interface CrlValidity {
  readonly thisUpdate: Date;
  /** Brokers treat a CRL past nextUpdate as stale, so republish before then. */
  readonly nextUpdate: Date;
  /**
   * Must grow with every CRL the CA publishes. Defaults to thisUpdate in
   * milliseconds, which grows as long as the clock does.
   */
  readonly crlNumber?: bigint;
}

const CRL_NUMBER_OID = '2.5.29.20';
const HEX = /^[0-9a-f]+$/i;
/** RFC 5280 limits the CRL number to 20 octets. */
const MAX_CRL_NUMBER = 2n ** 159n;

/** The complete CRL (not a delta) as PEM, signed by the device CA. */
export async function buildCrl(ca: DeviceCa, revoked: readonly RevokedCertificateEntry[], validity: CrlValidity): Promise<string> {
  if (!(validity.nextUpdate > validity.thisUpdate)) throw new ValidationError('nextUpdate must be later than thisUpdate.');
  const crlNumber = validity.crlNumber ?? BigInt(validity.thisUpdate.getTime());
  if (crlNumber < 0n || crlNumber >= MAX_CRL_NUMBER) throw new ValidationError('crlNumber must be a non-negative integer of at most 20 octets.');
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.certificate.subjectName,
    thisUpdate: validity.thisUpdate,
    nextUpdate: validity.nextUpdate,
    signingKey: ca.privateKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [
      new x509.AuthorityKeyIdentifierExtension(ca.keyIdentifier),
      new x509.Extension(CRL_NUMBER_OID, false, derInteger(crlNumber)),
    ],
    entries: uniqueBySerial(revoked).map((entry) => ({
      serialNumber: entry.serialNumber,
      revocationDate: revocationDate(entry),
      // "unspecified" is written as no reason at all, as RFC 5280 asks.
      ...(entry.reason === undefined || entry.reason === 'unspecified' ? {} : { reason: x509.X509CrlReason[entry.reason] }),
    })),
  });
  return toPem(crl.rawData, 'X509 CRL');
}

/** A certificate revoked twice (say, by decommissioning after a manual revoke) is listed once, from its first revocation. */
function uniqueBySerial(revoked: readonly RevokedCertificateEntry[]): RevokedCertificateEntry[] {
  const bySerial = new Map<string, RevokedCertificateEntry>();
  for (const entry of revoked) {
    if (!HEX.test(entry.serialNumber)) throw new ValidationError(`Serial number "${entry.serialNumber}" is not hex.`);
    const key = entry.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
    const seen = bySerial.get(key);
    if (seen === undefined || revocationDate(entry) < revocationDate(seen)) bySerial.set(key, entry);
  }
  return [...bySerial.values()];
}

function revocationDate(entry: RevokedCertificateEntry): Date {
  const date = new Date(entry.revokedAt);
  if (Number.isNaN(date.getTime())) throw new ValidationError(`revokedAt "${entry.revokedAt}" is not a date.`);
  return date;
}

/** DER INTEGER for a non-negative value; x509 has no CRL number extension class. */
function derInteger(value: bigint): Uint8Array {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  // A set top bit would read as negative, so such values get a leading zero byte.
  const content = (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
  return Buffer.concat([Buffer.from([0x02, content.length]), content]);
}
