import 'reflect-metadata';
import { KeyObject, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * The configured x509 library and the key handling the PKI modules share:
 * every PKI file imports x509 from here so the WebCrypto provider is set
 * before any certificate is built or verified.
 */
x509.cryptoProvider.set(webcrypto);

export { x509 };
export type CryptoKey = webcrypto.CryptoKey;
export type SigningAlgorithm = webcrypto.EcdsaParams | webcrypto.Algorithm;

/** Node's curve names to WebCrypto's, for the curves a CA key may use. */
const WEB_CURVES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
const CURVE_HASH: Readonly<Record<string, string>> = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' };

export interface SigningKey {
  readonly privateKey: CryptoKey;
  readonly signingAlgorithm: SigningAlgorithm;
}

/**
 * Turns a private key (parsed from PKCS#8, SEC1 or PKCS#1 PEM, as operators
 * hand them over) into a non-extractable WebCrypto signing key; undefined for
 * key types a CA cannot use here (Ed25519 CAs are not accepted by every
 * device TLS stack).
 */
export async function importSigningKey(key: KeyObject): Promise<SigningKey | undefined> {
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType === 'ec') {
    const namedCurve = WEB_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
    const hash = namedCurve === undefined ? undefined : CURVE_HASH[namedCurve];
    if (namedCurve === undefined || hash === undefined) return undefined;
    const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, false, ['sign']);
    return { privateKey, signingAlgorithm: { name: 'ECDSA', hash } };
  }
  if (key.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
    return { privateKey, signingAlgorithm: algorithm };
  }
  return undefined;
}

export function parsePrivateKey(pem: string): KeyObject | undefined {
  try {
    return createPrivateKey(pem);
  } catch {
    return undefined;
  }
}

/** A fresh EC P-256 pair, extractable so the private half can be written out once as PEM. */
export async function generateP256KeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
}

export const P256_SIGNING: SigningAlgorithm = { name: 'ECDSA', hash: 'SHA-256' };

/**
 * PEM with the label openssl expects (x509 writes CRLs as "CRL", which
 * openssl cannot read, not "X509 CRL") and a final newline, so PEMs can be
 * concatenated into bundles and files.
 */
export function toPem(der: ArrayBuffer, label: 'CERTIFICATE' | 'X509 CRL'): string {
  return `${x509.PemConverter.encode(der, label)}\n`;
}

export function privateKeyPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ format: 'pem', type: 'pkcs8' }).toString();
}

/**
 * 16 random bytes as lowercase hex. The top bit is cleared so the DER
 * INTEGER is positive and the next one set so it never starts with a zero
 * byte, which DER would strip and make the hex differ from what openssl,
 * the CRL and the broker show (126 random bits remain).
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}
