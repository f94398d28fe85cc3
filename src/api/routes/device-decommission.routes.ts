import { revokeAllDeviceCertificates } from '../../commands/device-certificates/device-certificate.handler';
import { revokeRegistrationToken } from '../../commands/registration-tokens/registration-token.handler';
import { AppError } from '../../platform/errors';
import type { RouteContext, RouteResult, RouteSpec } from '../route';
import { pendingTokenIds } from './provisioning.queries';

/**
 * Decommissioning a device (DELETE /devices/{id}) also revokes its
 * certificates and its unused registration tokens, in the request that
 * decommissions it, so the answer means "it can no longer connect or enrol".
 *
 * Done here rather than by a process manager: the caller learns of a failure
 * and the list read right after shows the revocations (read-your-writes).
 * The revocations come after the decommission, so a provisioning that slips
 * in between is caught by one of the two (it refuses, and withdraws its
 * certificate, once the device is decommissioned). Should the request die
 * between the two steps, repeating the DELETE finishes the revocations
 * before answering 409 DEVICE_DECOMMISSIONED again.
 */
export function revokingOnDecommission(routes: readonly RouteSpec[]): RouteSpec[] {
  return routes.map((route) =>
    route.operationId !== 'deleteDevice'
      ? route
      : {
          ...route,
          summary: `${route.summary}; its certificates and unused registration tokens are revoked`,
          async handler(ctx: RouteContext): Promise<RouteResult> {
            let answer: RouteResult;
            try {
              answer = await route.handler(ctx);
            } catch (error) {
              if (error instanceof AppError && error.code === 'DEVICE_DECOMMISSIONED') await revokeAll(ctx, ctx.params.id as string);
              throw error;
            }
            await revokeAll(ctx, ctx.params.id as string);
            return answer;
          },
        },
  );
}

async function revokeAll(ctx: RouteContext, deviceId: string): Promise<void> {
  const certificates = await revokeAllDeviceCertificates(ctx.deps.store, ctx.command, deviceId, 'CESSATION_OF_OPERATION');
  await ctx.settle(certificates);
  const pending = await ctx.tenant((tx) => pendingTokenIds(tx, deviceId));
  for (const tokenId of pending) {
    try {
      await ctx.settle(await revokeRegistrationToken(ctx.deps.store, ctx.command, tokenId));
    } catch (error) {
      // Redeemed meanwhile: that provisioning refuses the decommissioned device by itself.
      if (!(error instanceof AppError && error.code === 'REGISTRATION_TOKEN_USED')) throw error;
    }
  }
}
