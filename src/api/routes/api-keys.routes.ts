import { apiKeyNotFound } from '../../commands/api-keys/api-key.decider';
import { createApiKey, revokeApiKey } from '../../commands/api-keys/api-key.handler';
import { updateOrganization } from '../../commands/organizations/organization.handler';
import type { Role } from '../../commands/roles';
import { NotFoundError } from '../../platform/errors';
import { defineRoutes, type RouteContext, type RouteResult } from '../route';
import { findApiKey, findOrganization, listApiKeys } from './api-keys.queries';

async function organizationResponse(ctx: RouteContext): Promise<RouteResult> {
  const org = await ctx.tenant((tx) => findOrganization(tx, ctx.deps.config.readingsRetentionDays));
  if (!org) throw new NotFoundError('ORGANIZATION_NOT_FOUND', 'The organization does not exist (yet).');
  return { status: 200, body: org, version: org.version };
}

export const apiKeyRoutes = defineRoutes([
  {
    method: 'get',
    path: '/v1/organization',
    operationId: 'getOrganization',
    summary: 'The caller’s organization',
    tag: 'Organization',
    auth: 'viewer',
    responses: { 200: 'api-keys#/$defs/Organization' },
    async handler(ctx) {
      return organizationResponse(ctx);
    },
  },
  {
    method: 'patch',
    path: '/v1/organization',
    operationId: 'updateOrganization',
    summary: 'Rename the caller’s organization or set its readings retention (If-Match supported)',
    tag: 'Organization',
    auth: 'admin',
    body: 'api-keys#/$defs/UpdateOrganization',
    responses: { 200: 'api-keys#/$defs/Organization' },
    async handler(ctx) {
      const changes = ctx.body as { name?: string; readingsRetentionDays?: number | null };
      await ctx.settle(await updateOrganization(ctx.deps.store, ctx.command, changes, ctx.ifMatch));
      return organizationResponse(ctx);
    },
  },
  {
    method: 'post',
    path: '/v1/api-keys',
    operationId: 'createApiKey',
    summary: 'Create an API key (the key is shown once)',
    tag: 'API keys',
    auth: 'admin',
    body: 'api-keys#/$defs/CreateApiKey',
    responses: { 201: 'api-keys#/$defs/CreatedApiKey' },
    showsSecretOnce: true,
    async handler(ctx) {
      const body = ctx.body as { name: string; role?: Role; mode?: 'live' | 'test'; expiresAt?: string | null };
      const created = await createApiKey(ctx.deps.store, ctx.command, {
        name: body.name,
        role: body.role ?? 'member',
        mode: body.mode ?? 'live',
        expiresAt: body.expiresAt ?? null,
      });
      await ctx.settle(created.result);
      return {
        status: 201,
        headers: { Location: `/api/v1/api-keys/${created.keyId}` },
        body: {
          id: created.keyId,
          name: body.name,
          role: body.role ?? 'member',
          prefix: created.prefix,
          apiKey: created.apiKey,
          expiresAt: body.expiresAt ?? null,
        },
      };
    },
  },
  {
    method: 'get',
    path: '/v1/api-keys',
    operationId: 'listApiKeys',
    summary: 'List API keys (never the keys themselves)',
    tag: 'API keys',
    auth: 'admin',
    query: 'api-keys#/$defs/ListApiKeysQuery',
    responses: { 200: 'api-keys#/$defs/ApiKeyPage' },
    async handler(ctx) {
      const q = ctx.query as { limit: number; cursor?: string; includeRevoked: boolean };
      return { status: 200, body: await ctx.tenant((tx) => listApiKeys(tx, q)) };
    },
  },
  {
    method: 'get',
    path: '/v1/api-keys/{id}',
    operationId: 'getApiKey',
    summary: 'One API key',
    tag: 'API keys',
    auth: 'admin',
    responses: { 200: 'api-keys#/$defs/ApiKey' },
    async handler(ctx) {
      const key = await ctx.tenant((tx) => findApiKey(tx, ctx.params.id as string));
      if (!key) throw apiKeyNotFound();
      return { status: 200, body: key };
    },
  },
  {
    method: 'delete',
    path: '/v1/api-keys/{id}',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key; it is refused from the next request on',
    tag: 'API keys',
    auth: 'admin',
    responses: { 204: null },
    async handler(ctx) {
      const result = await revokeApiKey(ctx.deps.store, ctx.command, ctx.params.id as string);
      await ctx.settle(result);
      return { status: 204 };
    },
  },
]);
