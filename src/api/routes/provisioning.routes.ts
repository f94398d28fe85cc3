import { randomUUID } from 'node:crypto';
import { provisionDevice } from '../../commands/device-certificates/provision-device.handler';
import { deviceCommands } from '../../commands/devices/device.handler';
import { registrationTokenNotFound } from '../../commands/registration-tokens/registration-token.decider';
import { issueRegistrationToken, revokeRegistrationToken } from '../../commands/registration-tokens/registration-token.handler';
import { AppError, ValidationError, type FieldError } from '../../platform/errors';
import { moduleLogger } from '../../platform/logger';
import { deviceTopics } from '../../platform/mqtt/topics';
import { unknownReferences } from '../entity.queries';
import { defineRoutes, type RouteContext } from '../route';
import { deviceProfileQueries } from './device-profiles.routes';
import { findDeviceForToken, findRegistrationToken, listRegistrationTokens, type RegistrationTokenStatus } from './provisioning.queries';
import { siteQueries } from './sites.routes';

const TOKENS = '/v1/devices/registration/tokens';
const DEFAULT_TOKEN_SECONDS = 86_400;
// A token or a certificate in a response must not be kept by any cache on the way.
const NO_STORE = { 'Cache-Control': 'no-store' };

interface CreateTokenBody {
  deviceName?: string;
  deviceId?: string;
  siteId?: string;
  deviceProfileId?: string;
  expiresInSeconds?: number;
}

const unprocessable = (errors: FieldError[]): AppError => new AppError('UNPROCESSABLE', 'The device cannot be enrolled with this request.', errors);

/** The device a new token enrols: the existing one named by deviceId (live, in the caller's organization), or a new PENDING one. */
async function tokenTarget(ctx: RouteContext, body: CreateTokenBody): Promise<{ deviceId: string; deviceName: string; deviceCreated: boolean }> {
  if (body.deviceId !== undefined) {
    const deviceId = body.deviceId.toLowerCase();
    const device = await ctx.tenant((tx) => findDeviceForToken(tx, deviceId));
    if (!device) throw unprocessable([{ path: '/body/deviceId', message: 'does not exist' }]);
    if (device.decommissioned) throw unprocessable([{ path: '/body/deviceId', message: 'is decommissioned' }]);
    const misplaced = (['siteId', 'deviceProfileId'] as const).filter((field) => body[field] !== undefined);
    if (misplaced.length > 0) throw unprocessable(misplaced.map((field) => ({ path: `/body/${field}`, message: 'applies only to a new device' })));
    if (body.deviceName !== undefined && body.deviceName !== device.name) {
      throw unprocessable([{ path: '/body/deviceName', message: 'differs from the device’s name (rename it with PATCH /api/v1/devices/{id})' }]);
    }
    return { deviceId, deviceName: device.name, deviceCreated: false };
  }
  const name = body.deviceName;
  if (name === undefined) throw new ValidationError('The request body is invalid.', [{ path: '/body/deviceName', message: 'is required without deviceId' }]);
  const errors = await ctx.tenant(async (tx) => [
    ...(await unknownReferences(tx, siteQueries, [{ path: '/body/siteId', id: body.siteId }])),
    ...(await unknownReferences(tx, deviceProfileQueries, [{ path: '/body/deviceProfileId', id: body.deviceProfileId }])),
  ]);
  if (errors.length > 0) throw new AppError('UNPROCESSABLE', 'A referenced resource does not exist.', errors);
  const deviceId = randomUUID();
  const created = await deviceCommands.create(ctx.deps.store, ctx.command, deviceId, {
    name,
    siteId: body.siteId?.toLowerCase() ?? null,
    deviceProfileId: body.deviceProfileId?.toLowerCase() ?? null,
    serialNumber: null,
    labels: {},
    tags: [],
    status: 'PENDING',
  });
  await ctx.settle(created);
  return { deviceId, deviceName: name, deviceCreated: true };
}

export const provisioningRoutes = defineRoutes([
  {
    method: 'post',
    path: TOKENS,
    operationId: 'createRegistrationToken',
    summary: 'Issue a one-time registration token for a new or an existing device (the token is shown once)',
    tag: 'Provisioning',
    auth: 'member',
    showsSecretOnce: true,
    body: 'provisioning#/$defs/CreateRegistrationToken',
    responses: { 201: 'provisioning#/$defs/IssuedRegistrationToken' },
    async handler(ctx) {
      const body = ctx.body as CreateTokenBody;
      const target = await tokenTarget(ctx, body);
      const issued = await issueRegistrationToken(ctx.deps.store, ctx.command, { ...target, expiresInSeconds: body.expiresInSeconds ?? DEFAULT_TOKEN_SECONDS });
      await ctx.settle(issued.result);
      return {
        status: 201,
        headers: { Location: `/api${TOKENS}/${issued.tokenId}`, ...NO_STORE },
        body: {
          token: issued.token,
          deviceId: target.deviceId,
          deviceName: target.deviceName,
          provisionEndpoint: `${ctx.deps.config.publicUrl}/api/v1/devices/provision`,
          expiresAt: issued.expiresAt,
        },
      };
    },
  },
  {
    method: 'get',
    path: TOKENS,
    operationId: 'listRegistrationTokens',
    summary: 'List registration tokens, PENDING ones unless asked otherwise (never the tokens themselves)',
    tag: 'Provisioning',
    auth: 'viewer',
    query: 'provisioning#/$defs/ListRegistrationTokensQuery',
    responses: { 200: 'provisioning#/$defs/RegistrationTokenPage' },
    async handler(ctx) {
      const q = ctx.query as { limit: number; cursor?: string; deviceId?: string; status: RegistrationTokenStatus };
      return { status: 200, body: await ctx.tenant((tx) => listRegistrationTokens(tx, { ...q, deviceId: q.deviceId?.toLowerCase() })) };
    },
  },
  {
    method: 'get',
    path: `${TOKENS}/{tokenId}`,
    operationId: 'getRegistrationToken',
    summary: 'One registration token (never the token itself)',
    tag: 'Provisioning',
    auth: 'viewer',
    responses: { 200: 'provisioning#/$defs/RegistrationToken' },
    async handler(ctx) {
      const token = await ctx.tenant((tx) => findRegistrationToken(tx, ctx.params.tokenId as string));
      if (!token) throw registrationTokenNotFound();
      return { status: 200, body: token };
    },
  },
  {
    method: 'delete',
    path: `${TOKENS}/{tokenId}`,
    operationId: 'revokeRegistrationToken',
    summary: 'Revoke an unused registration token',
    tag: 'Provisioning',
    auth: 'member',
    responses: { 204: null },
    async handler(ctx) {
      const result = await revokeRegistrationToken(ctx.deps.store, ctx.command, ctx.params.tokenId as string);
      await ctx.settle(result);
      return { status: 204 };
    },
  },
  {
    method: 'post',
    path: '/v1/devices/provision',
    operationId: 'provisionDevice',
    summary: 'Exchange a registration token and a CSR for the device’s client certificate (the token is the credential)',
    tag: 'Provisioning',
    auth: 'public',
    body: 'provisioning#/$defs/ProvisionDevice',
    responses: { 201: 'provisioning#/$defs/ProvisionedDevice' },
    async handler(ctx) {
      const { deps } = ctx;
      const body = ctx.body as { token: string; csr: string };
      const provisioned = await provisionDevice(
        { store: deps.store, ca: deps.deviceCa, validityDays: deps.config.deviceCertValidityDays },
        { token: body.token, csr: body.csr, correlationId: ctx.command.correlationId },
      );
      for (const result of provisioned.appended) await ctx.settle(result);
      const { deviceId, orgId, certificate } = provisioned;
      moduleLogger(deps.log, 'provisioning').info({ orgId, deviceId, serialNumber: certificate.serialNumber }, 'device provisioned');
      return {
        status: 201,
        headers: NO_STORE,
        body: {
          deviceId,
          certificate: certificate.certificatePem,
          caChain: deps.deviceCa.certificatePem,
          serialNumber: certificate.serialNumber,
          notBefore: certificate.notBefore,
          notAfter: certificate.notAfter,
          mqtt: { url: deps.config.mqttPublicUrl, clientId: deviceId, topics: deviceTopics(deviceId) },
        },
      };
    },
  },
]);
