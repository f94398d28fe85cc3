import type { Pool } from '../../platform/db/pool';
import { UnauthenticatedError } from '../../platform/errors';
import { apiKeyMatches, apiKeyPrefix } from '../../commands/api-keys/api-key.secret';
import { isRole } from '../../commands/roles';
import type { JwtVerifier } from './jwt-verifier';
import type { Principal } from './principal';

interface ApiKeyRow {
  org_id: string;
  id: string;
  role: string;
  secret_hash: string;
  expires_at: Date | null;
  revoked_at: Date | null;
}

const LAST_USED_EVERY_MS = 60_000;
const ORG_CACHE_MS = 60_000;

/**
 * Resolves `Authorization: Bearer …` to a principal. `sk_…` is an API key:
 * a malformed one is refused before any database work, a well-formed one is
 * looked up by its prefix (as the trusted role: the organization is not known
 * yet) and compared in constant time. Anything else must be a user JWT.
 * `writer` is a pool whose sessions are the writer role (createWriterPool).
 */
export class Authenticator {
  private readonly lastUsedWritten = new Map<string, number>();
  private readonly knownOrgs = new Map<string, number>();

  constructor(private readonly writer: Pool, private readonly jwt: JwtVerifier | undefined) {}

  async close(): Promise<void> {
    await this.writer.end();
  }

  async authenticate(header: string | undefined): Promise<Principal> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    if (!token) throw new UnauthenticatedError('UNAUTHENTICATED', 'Send Authorization: Bearer <API key or token>.');
    if (token.startsWith('sk_')) return this.fromApiKey(token);
    if (!this.jwt) throw new UnauthenticatedError('INVALID_TOKEN', 'User tokens are not enabled on this server.');
    const claims = await this.jwt.verify(token);
    if (!(await this.organizationExists(claims.orgId))) {
      throw new UnauthenticatedError('INVALID_TOKEN', 'The token names an unknown organization.');
    }
    return { orgId: claims.orgId, actor: `user:${claims.sub}`, role: claims.role, kind: 'user', subject: claims.sub };
  }

  private async fromApiKey(key: string): Promise<Principal> {
    const invalid = new UnauthenticatedError('INVALID_API_KEY', 'The API key is invalid, revoked or expired.');
    const prefix = apiKeyPrefix(key);
    if (!prefix) throw invalid;
    const { rows } = await this.writer.query<ApiKeyRow>(
      'SELECT org_id, id, role, secret_hash, expires_at, revoked_at FROM api_keys WHERE prefix = $1',
      [prefix],
    );
    const row = rows[0];
    if (!row || !apiKeyMatches(key, row.secret_hash) || row.revoked_at || !isRole(row.role)) throw invalid;
    if (row.expires_at && row.expires_at.getTime() <= Date.now()) throw invalid;
    this.touch(row.org_id, row.id);
    return { orgId: row.org_id, actor: `apiKey:${row.id}`, role: row.role, kind: 'apiKey', subject: row.id };
  }

  /** last_used_at is operational data, not an event; written at most once a minute per key. */
  private touch(orgId: string, keyId: string): void {
    const now = Date.now();
    if (now - (this.lastUsedWritten.get(keyId) ?? 0) < LAST_USED_EVERY_MS) return;
    this.lastUsedWritten.set(keyId, now);
    void this.writer.query('UPDATE api_keys SET last_used_at = now() WHERE org_id = $1 AND id = $2', [orgId, keyId]).catch(() => undefined);
  }

  private async organizationExists(orgId: string): Promise<boolean> {
    if (Date.now() - (this.knownOrgs.get(orgId) ?? 0) < ORG_CACHE_MS) return true;
    const { rowCount } = await this.writer.query('SELECT 1 FROM organizations WHERE org_id = $1', [orgId]);
    const found = rowCount === 1;
    if (found) this.knownOrgs.set(orgId, Date.now());
    return found;
  }
}
