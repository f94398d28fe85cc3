import { createPublicKey } from 'node:crypto';
import { ConfigError } from '../config';
import { importSigningKey, parsePrivateKey, toPem, x509, type CryptoKey, type SigningAlgorithm } from './keys';

/** The CA that signs device, broker and internal client certificates, and the CRL. */
export interface DeviceCa {
  readonly certificate: x509.X509Certificate;
  readonly certificatePem: string;
  readonly privateKey: CryptoKey;
  readonly signingAlgorithm: SigningAlgorithm;
  /** Hex subject key id, repeated as the authority key id of everything the CA signs. */
  readonly keyIdentifier: string;
  readonly source: 'operator' | 'data-dir';
}

/** Where a PEM came from, so an error names the variable or file to fix. */
export interface CaSourceNames {
  readonly cert: string;
  readonly key: string;
  readonly source: DeviceCa['source'];
}

/** Checks that the key matches the certificate and both can serve as the device CA. */
export async function assembleDeviceCa(certPem: string, keyPem: string, names: CaSourceNames): Promise<DeviceCa> {
  const certificate = parseSingleCertificate(certPem, names.cert);
  const key = parsePrivateKey(keyPem);
  if (key === undefined) throw new ConfigError(names.key, 'is not an unencrypted PEM private key');
  const derivedSpki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  if (!derivedSpki.equals(Buffer.from(certificate.publicKey.rawData))) {
    throw new ConfigError(names.key, `does not match the certificate in ${names.cert}`);
  }
  const signing = await importSigningKey(key);
  if (signing === undefined) {
    throw new ConfigError(names.key, `holds a ${key.asymmetricKeyType ?? 'unknown'} key; the device CA must use EC P-256/P-384/P-521 or RSA`);
  }
  assertUsableCa(certificate, names.cert);
  const ski = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  const keyIdentifier = ski ? ski.keyId : Buffer.from(await certificate.publicKey.getKeyIdentifier()).toString('hex');
  return {
    certificate,
    certificatePem: toPem(certificate.rawData, 'CERTIFICATE'),
    privateKey: signing.privateKey,
    signingAlgorithm: signing.signingAlgorithm,
    keyIdentifier,
    source: names.source,
  };
}

function parseSingleCertificate(pem: string, name: string): x509.X509Certificate {
  let blocks: x509.PemStruct[];
  try {
    blocks = x509.PemConverter.decodeWithHeaders(pem);
  } catch {
    throw new ConfigError(name, 'is not PEM');
  }
  // A chain here would leave devices without the root; only the signing CA itself is accepted.
  const [block, ...rest] = blocks;
  if (block === undefined || block.type !== 'CERTIFICATE' || rest.length > 0) {
    throw new ConfigError(name, 'must hold exactly one PEM CERTIFICATE, the CA that signs device certificates');
  }
  try {
    return new x509.X509Certificate(block.rawData);
  } catch {
    throw new ConfigError(name, 'is not a valid X.509 certificate');
  }
}

/** Devices, brokers and openssl reject what a non-CA or expired certificate signs; fail at start instead. */
function assertUsableCa(certificate: x509.X509Certificate, name: string): void {
  const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca) throw new ConfigError(name, 'is not a CA certificate (basicConstraints CA:TRUE is missing)');
  const usage = certificate.getExtension(x509.KeyUsagesExtension);
  const needed = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
  if (usage && (usage.usages & needed) !== needed) {
    throw new ConfigError(name, 'must allow keyCertSign and cRLSign in its keyUsage');
  }
  if (certificate.notAfter.getTime() <= Date.now()) {
    throw new ConfigError(name, `expired on ${certificate.notAfter.toISOString()}`);
  }
}
