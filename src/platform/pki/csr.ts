import { createPublicKey, type KeyObject } from 'node:crypto';
import { AppError } from '../errors';
import { x509 } from './keys';

/**
 * What provisioning takes from a device's PKCS#10 request: its public key,
 * after proof that the device holds the private half (the self-signature)
 * and that the key is strong enough. The requested subject, attributes and
 * extensions are never read; the issuer decides all of them.
 */
export interface CheckedCsr {
  readonly publicKey: x509.PublicKey;
  /** "EC P-256", "EC P-384" or "RSA <bits>", for logs and the certificate list. */
  readonly keyDescription: string;
}

export interface AcceptedDeviceKey {
  readonly kind: 'ec' | 'rsa';
  readonly description: string;
}

const MAX_CSR_PEM_CHARS = 16 * 1024;
const CSR_PEM_TYPES = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
const CURVE_NAMES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
const ACCEPTED_CURVES = new Set(['P-256', 'P-384']);
const MIN_RSA_BITS = 2048;
const KEY_TYPE_NAMES: Readonly<Record<string, string>> = { ed25519: 'Ed25519', ed448: 'Ed448', 'rsa-pss': 'RSA-PSS', dsa: 'DSA' };
const ACCEPTED = 'accepted keys are EC P-256, EC P-384 and RSA of 2048 bits or more';

export async function checkCsr(pem: string): Promise<CheckedCsr> {
  const { csr, publicKey } = parseCsr(pem);
  // Key policy before the signature: algorithms that will be refused anyway are never run.
  const accepted = acceptDeviceKey(publicKey);
  if (!(await selfSignatureVerifies(csr))) {
    throw invalid("The CSR's signature does not verify with its own public key.");
  }
  return { publicKey, keyDescription: accepted.description };
}

/** The device key policy; the issuer applies it too, so no path signs a weak key. */
export function acceptDeviceKey(publicKey: x509.PublicKey): AcceptedDeviceKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    throw rejected('of an unsupported algorithm');
  }
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const nodeCurve = key.asymmetricKeyDetails?.namedCurve;
    const curve = nodeCurve === undefined ? 'with explicit curve parameters' : (CURVE_NAMES[nodeCurve] ?? nodeCurve);
    if (ACCEPTED_CURVES.has(curve)) return { kind: 'ec', description: `EC ${curve}` };
    throw rejected(`EC ${curve}`);
  }
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits >= MIN_RSA_BITS) return { kind: 'rsa', description: `RSA ${bits}` };
    throw rejected(`RSA ${bits}`);
  }
  throw rejected(type === undefined ? 'of an unknown type' : (KEY_TYPE_NAMES[type] ?? type));
}

function rejected(found: string): AppError {
  return new AppError('CSR_KEY_REJECTED', `The CSR's key is ${found}; ${ACCEPTED}.`);
}

function invalid(message: string): AppError {
  return new AppError('CSR_INVALID', message);
}

function parseCsr(pem: string): { csr: x509.Pkcs10CertificateRequest; publicKey: x509.PublicKey } {
  if (typeof pem !== 'string' || pem.trim() === '') throw invalid('The CSR must be a PEM "CERTIFICATE REQUEST".');
  if (pem.length > MAX_CSR_PEM_CHARS) throw invalid(`The CSR is longer than ${MAX_CSR_PEM_CHARS} characters.`);
  let blocks: x509.PemStruct[];
  try {
    blocks = x509.PemConverter.decodeWithHeaders(pem);
  } catch {
    throw invalid('The CSR is not valid PEM.');
  }
  const [block, ...rest] = blocks;
  if (block === undefined || rest.length > 0 || !CSR_PEM_TYPES.has(block.type)) {
    throw invalid('The CSR must be exactly one PEM "CERTIFICATE REQUEST" block.');
  }
  try {
    const csr = new x509.Pkcs10CertificateRequest(block.rawData);
    // The key is decoded lazily; read it here so a malformed one is CSR_INVALID.
    return { csr, publicKey: csr.publicKey };
  } catch {
    throw invalid('The CSR is not a valid PKCS#10 certificate request.');
  }
}

async function selfSignatureVerifies(csr: x509.Pkcs10CertificateRequest): Promise<boolean> {
  try {
    return await csr.verify();
  } catch {
    // WebCrypto throws rather than answering false for some malformed signatures.
    return false;
  }
}
