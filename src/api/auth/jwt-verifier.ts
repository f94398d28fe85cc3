import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { isRole, type Role } from '../../commands/roles';
import { UnauthenticatedError } from '../../platform/errors';

export interface JwtSettings {
  readonly secret?: string;
  readonly publicKey?: string;
  readonly issuer?: string;
  readonly audience?: string;
}

export interface UserClaims {
  readonly sub: string;
  readonly orgId: string;
  readonly role: Role;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Verifies user JWTs from the web app with exactly one pinned algorithm:
 * HS256 for a shared secret, or the one matching the public key's type
 * (RS256, ES256, EdDSA). `exp` is required; issuer and audience are checked
 * when configured. (jose rather than jsonwebtoken: the latter has no EdDSA.)
 */
export class JwtVerifier {
  private readonly key: KeyObject;
  private readonly algorithm: string;

  constructor(private readonly settings: JwtSettings) {
    if (settings.publicKey) {
      this.key = createPublicKey(settings.publicKey.replace(/\\n/g, '\n'));
      this.algorithm = algorithmFor(this.key);
    } else if (settings.secret) {
      this.key = createSecretKey(Buffer.from(settings.secret, 'utf8'));
      this.algorithm = 'HS256';
    } else {
      throw new Error('JwtVerifier needs a secret or a public key');
    }
  }

  async verify(token: string): Promise<UserClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: [this.algorithm],
        requiredClaims: ['exp', 'sub'],
        ...(this.settings.issuer ? { issuer: this.settings.issuer } : {}),
        ...(this.settings.audience ? { audience: this.settings.audience } : {}),
      }));
    } catch {
      throw new UnauthenticatedError('INVALID_TOKEN', 'The bearer token is invalid or expired.');
    }
    const orgId = payload.org_id;
    const role = payload.role;
    if (typeof payload.sub !== 'string' || typeof orgId !== 'string' || !UUID.test(orgId) || !isRole(role)) {
      throw new UnauthenticatedError('INVALID_TOKEN', 'The token lacks a valid sub, org_id or role claim.');
    }
    return { sub: payload.sub, orgId: orgId.toLowerCase(), role };
  }
}

function algorithmFor(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'ec':
      if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('JWT_PUBLIC_KEY: EC keys must use P-256 (ES256)');
      return 'ES256';
    case 'ed25519':
      return 'EdDSA';
    default:
      throw new Error(`JWT_PUBLIC_KEY: unsupported key type ${String(key.asymmetricKeyType)}`);
  }
}

/** Development tokens (`cli admin mint-jwt`), HS256 with the configured secret. */
export function mintJwt(secret: string, claims: UserClaims, options: { expiresIn?: string; issuer?: string; audience?: string } = {}): Promise<string> {
  let jwt = new SignJWT({ org_id: claims.orgId, role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(createSecretKey(Buffer.from(secret, 'utf8')));
}
