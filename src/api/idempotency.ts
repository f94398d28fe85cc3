import { createHash } from 'node:crypto';
import type { Pool } from '../platform/db/pool';
import { asWriter } from '../platform/db/roles';
import { ConflictError, ValidationError, AppError } from '../platform/errors';

export interface StoredResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const RETENTION = '24 hours';

/**
 * Idempotency-Key with Stripe semantics, per organization and caller: the
 * first request's response is stored and replayed for a retry with the same
 * key and body; the same key with another body is 422; a retry while the
 * first is still running is 409. Server errors are not stored, so the
 * request may be retried.
 */
export class IdempotencyStore {
  constructor(private readonly pool: Pool) {}

  static requestHash(method: string, path: string, body: unknown): string {
    return createHash('sha256').update(`${method} ${path}\n${JSON.stringify(body ?? null)}`).digest('hex');
  }

  /** Claims the key; returns a stored response to replay, or undefined to proceed. */
  async begin(orgId: string, principal: string, key: string, hash: string): Promise<StoredResponse | undefined> {
    if (!KEY_PATTERN.test(key)) {
      throw new ValidationError('Idempotency-Key must be 1-255 printable ASCII characters.', [{ path: '/headers/idempotency-key', message: 'is invalid' }]);
    }
    return asWriter(this.pool, async (tx) => {
      await tx.query(
        `DELETE FROM idempotency_keys WHERE org_id = $1 AND principal = $2 AND key = $3 AND created_at < now() - interval '${RETENTION}'`,
        [orgId, principal, key],
      );
      const inserted = await tx.query(
        `INSERT INTO idempotency_keys (org_id, principal, key, request_hash, state) VALUES ($1, $2, $3, $4, 'in_progress')
         ON CONFLICT DO NOTHING`,
        [orgId, principal, key, hash],
      );
      if (inserted.rowCount === 1) return undefined;
      const { rows } = await tx.query<{ request_hash: string; state: string; status: number; headers: Record<string, string>; body: unknown }>(
        'SELECT request_hash, state, status, headers, body FROM idempotency_keys WHERE org_id = $1 AND principal = $2 AND key = $3',
        [orgId, principal, key],
      );
      const row = rows[0];
      if (!row) throw new ConflictError('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is in progress; retry shortly.');
      if (row.request_hash !== hash) {
        throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request.');
      }
      if (row.state !== 'done') throw new ConflictError('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is in progress; retry shortly.');
      return { status: row.status, headers: row.headers, body: row.body };
    });
  }

  async complete(orgId: string, principal: string, key: string, response: StoredResponse): Promise<void> {
    await asWriter(this.pool, (tx) =>
      tx.query(
        `UPDATE idempotency_keys SET state = 'done', status = $4, headers = $5, body = $6
          WHERE org_id = $1 AND principal = $2 AND key = $3`,
        [orgId, principal, key, response.status, JSON.stringify(response.headers), JSON.stringify(response.body ?? null)],
      ),
    );
  }

  async abandon(orgId: string, principal: string, key: string): Promise<void> {
    await asWriter(this.pool, (tx) =>
      tx.query('DELETE FROM idempotency_keys WHERE org_id = $1 AND principal = $2 AND key = $3', [orgId, principal, key]),
    );
  }
}
