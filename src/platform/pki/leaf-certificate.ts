import { ValidationError } from '../errors';
import type { DeviceCa } from './device-ca.validation';
import { generateP256KeyPair, privateKeyPem, randomSerialNumber, toPem, x509 } from './keys';

export interface IssuedCertificate {
  readonly certificatePem: string;
  /** Lowercase hex, as openssl, the CRL and the broker's revoked-serial set show it. */
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
}

/** For the platform's own endpoints, whose keys are generated here rather than by a device. */
export interface IssuedCertificateWithKey extends IssuedCertificate {
  readonly privateKeyPem: string;
}

const MAX_VALIDITY_DAYS = 825;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Devices with slightly slow clocks must accept a certificate issued a moment ago. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface LeafSpec {
  readonly publicKey: x509.PublicKeyType;
  readonly subject: x509.JsonName;
  readonly altNames: x509.JsonGeneralName[];
  readonly keyUsage: x509.KeyUsageFlags;
  readonly extendedKeyUsage: x509.ExtendedKeyUsage;
  readonly validityDays: number;
  readonly now: Date;
}

export async function signWithNewKey(ca: DeviceCa, spec: Omit<LeafSpec, 'publicKey'>): Promise<IssuedCertificateWithKey> {
  const keys = await generateP256KeyPair();
  const issued = await signLeaf(ca, { ...spec, publicKey: keys.publicKey });
  return { ...issued, privateKeyPem: privateKeyPem(keys.privateKey) };
}

/**
 * The one place end-entity certificates are signed: every leaf is CA:FALSE,
 * has bounded validity, key ids linking it to the CA, and a fresh serial.
 */
export async function signLeaf(ca: DeviceCa, spec: LeafSpec): Promise<IssuedCertificate> {
  const days = spec.validityDays;
  if (!Number.isInteger(days) || days < 1 || days > MAX_VALIDITY_DAYS) {
    throw new ValidationError(`validityDays must be a whole number from 1 to ${MAX_VALIDITY_DAYS}.`);
  }
  const requestedEnd = new Date(spec.now.getTime() + days * DAY_MS);
  // Nothing verifies past its issuer's expiry, so the certificate should not claim to.
  const notAfter = requestedEnd > ca.certificate.notAfter ? ca.certificate.notAfter : requestedEnd;
  const serialNumber = randomSerialNumber();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: spec.subject,
    issuer: ca.certificate.subjectName,
    notBefore: new Date(spec.now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    publicKey: spec.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(spec.keyUsage, true),
      new x509.ExtendedKeyUsageExtension([spec.extendedKeyUsage]),
      new x509.SubjectAlternativeNameExtension(spec.altNames),
      await x509.SubjectKeyIdentifierExtension.create(spec.publicKey),
      new x509.AuthorityKeyIdentifierExtension(ca.keyIdentifier),
    ],
  });
  return {
    certificatePem: toPem(certificate.rawData, 'CERTIFICATE'),
    serialNumber,
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
  };
}
