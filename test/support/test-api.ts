import express, { type Express } from 'express';
import request from 'supertest';
import { createOrganization } from '../../src/commands/organizations/organization.handler';
import type { Role } from '../../src/commands/roles';
import { createApp } from '../../src/api/app';
import type { ApiDeps } from '../../src/api/api-deps';
import { mintJwt } from '../../src/api/auth/jwt-verifier';
import { API_ROUTES } from '../../src/api/routes/index';
import { createApiDeps } from '../../src/api/server';
import { PROJECTIONS } from '../../src/projections/index';
import { startProjectors } from '../../src/projections/projector-process';
import { createTestPlatform, type TestPlatform } from './test-platform';
import { responseValidator } from './response-validator';

export interface TestOrg {
  readonly orgId: string;
  readonly apiKey: string;
  /** Authorization header value with the org's admin API key. */
  readonly auth: string;
  jwt(role: Role, sub?: string): Promise<string>;
}

export interface TestApi {
  readonly platform: TestPlatform;
  readonly deps: ApiDeps;
  readonly app: Express;
  http(): request.Agent;
  createOrg(name?: string): Promise<TestOrg>;
  /** Stops the projectors early, so the read models stop following the event store. */
  stopProjectors(): Promise<void>;
  close(): Promise<void>;
}

/** The real app on a fresh database with projectors running in process, as `npm start` wires it. */
export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const platform = await createTestPlatform(env);
  const projectors = startProjectors(platform, platform.log, { idleCheckpointMs: 50, standbyRetryMs: 200 });
  let projectorsStopped: Promise<void> | undefined;
  const stopProjectors = (): Promise<void> => (projectorsStopped ??= projectors.stop());
  const deps = await createApiDeps(platform, platform.log);
  const violations: string[] = [];
  const app = express();
  app.use(responseValidator(API_ROUTES, deps.schemas, violations));
  app.use(createApp(deps, API_ROUTES, PROJECTIONS));
  const secret = platform.config.jwt.secret ?? '';
  return {
    platform,
    deps,
    app,
    http: () => request.agent(app),
    async createOrg(name = 'Test org') {
      const created = await createOrganization(platform.store, { name });
      if (created.position) {
        await deps.watcher.waitFor(PROJECTIONS.map((p) => p.name).filter((n) => n === 'organizations' || n === 'api-keys'), created.position, 10_000);
      }
      return {
        orgId: created.orgId,
        apiKey: created.apiKey,
        auth: `Bearer ${created.apiKey}`,
        jwt: (role, sub = 'user-1') => mintJwt(secret, { sub, orgId: created.orgId, role }),
      };
    },
    stopProjectors,
    async close() {
      await deps.streams.closeAll();
      await stopProjectors();
      await deps.watcher.stop();
      await deps.authenticator.close();
      await deps.readings.stop();
      await deps.blobs.close();
      await platform.close();
      if (violations.length > 0) throw new Error(`responses that break the OpenAPI document:\n${violations.join('\n')}`);
    },
  };
}
