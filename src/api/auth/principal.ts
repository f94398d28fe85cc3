import type { Role } from '../../commands/roles';
import type { Actor } from '../../platform/event-store/event-store.port';

/** Who is calling: resolved from an API key or a user JWT, always with one organization. */
export interface Principal {
  readonly orgId: string;
  readonly actor: Actor;
  readonly role: Role;
  readonly kind: 'apiKey' | 'user' | 'anonymous';
  /** The key id or user id, for rate limiting and audit. */
  readonly subject: string;
}

export const ANONYMOUS: Principal = Object.freeze({
  orgId: '00000000-0000-0000-0000-000000000000',
  actor: 'system',
  role: 'viewer',
  kind: 'anonymous',
  subject: 'anonymous',
});
