import { randomUUID } from 'node:crypto';
import type { Actor, EventStore, Position } from '../../platform/event-store/event-store.port';
import { createApiKey } from '../api-keys/api-key.handler';
import { NotFoundError } from '../../platform/errors';
import { handleCommand, type CommandResult } from '../command-handler';
import type { CommandContext } from '../decider';
import { organizationDecider } from './organization.decider';
import { organizationStream, type OrganizationEvent } from './organization.events';

export interface CreatedOrganization {
  readonly orgId: string;
  readonly apiKey: string;
  readonly position: Position | undefined;
}

/** A new organization with a first admin API key (shown once). */
export async function createOrganization(
  store: EventStore,
  input: { name: string; actor?: Actor },
  now = new Date(),
): Promise<CreatedOrganization> {
  const orgId = randomUUID();
  const context = { orgId, actor: input.actor ?? 'system', correlationId: randomUUID() } as const;
  await handleCommand(store, organizationDecider, organizationStream(orgId), {
    type: 'CreateOrganization',
    data: { orgId, name: input.name, now: now.toISOString() },
  }, context);
  const key = await createApiKey(store, context, { name: 'bootstrap admin key', role: 'admin' }, now);
  return { orgId, apiKey: key.apiKey, position: key.result.position };
}

/** Name and/or readings retention of the caller's organization; `expectedRevision` from If-Match. */
export function updateOrganization(
  store: EventStore,
  context: CommandContext,
  changes: { name?: string; readingsRetentionDays?: number | null },
  expectedRevision?: bigint,
  now = new Date(),
): Promise<CommandResult<OrganizationEvent>> {
  return handleCommand(
    store,
    organizationDecider,
    organizationStream(context.orgId),
    { type: 'UpdateOrganization', data: { orgId: context.orgId, ...changes, now: now.toISOString() } },
    context,
    { notFound: () => new NotFoundError('ORGANIZATION_NOT_FOUND'), ...(expectedRevision !== undefined ? { expectedRevision } : {}) },
  );
}
