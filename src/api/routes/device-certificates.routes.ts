import { deviceCertificateNotFound } from '../../commands/device-certificates/device-certificate.decider';
import type { CertificateRevocationReason } from '../../commands/device-certificates/device-certificate.events';
import { revokeDeviceCertificate } from '../../commands/device-certificates/device-certificate.handler';
import { deviceNotFound } from '../../commands/devices/device.decider';
import { defineRoutes, type RouteContext } from '../route';
import { deviceExists, findDeviceCertificate, listDeviceCertificates, type CertificateStatus } from './device-certificates.queries';

const CERTIFICATES = '/v1/devices/{id}/certificates';
/** Serial numbers as issued: lowercase hex (at most 20 octets, RFC 5280). */
const SERIAL = /^[0-9a-f]{1,40}$/;

/** The device (in the caller's organization) and the serial from the path; an unknown device answers first, whatever the serial. */
async function target(ctx: RouteContext): Promise<{ deviceId: string; serialNumber: string }> {
  const deviceId = ctx.params.id as string;
  if (!(await ctx.tenant((tx) => deviceExists(tx, deviceId)))) throw deviceNotFound();
  const serialNumber = (ctx.params.serial as string).toLowerCase();
  if (!SERIAL.test(serialNumber)) throw deviceCertificateNotFound();
  return { deviceId, serialNumber };
}

export const deviceCertificateRoutes = defineRoutes([
  {
    method: 'get',
    path: CERTIFICATES,
    operationId: 'listDeviceCertificates',
    summary: 'Certificates issued to a device, oldest first, with their status',
    tag: 'Provisioning',
    auth: 'viewer',
    query: 'provisioning#/$defs/ListDeviceCertificatesQuery',
    responses: { 200: 'provisioning#/$defs/DeviceCertificatePage' },
    async handler(ctx) {
      const deviceId = ctx.params.id as string;
      const q = ctx.query as { limit: number; cursor?: string; status?: CertificateStatus };
      const page = await ctx.tenant(async (tx) => ((await deviceExists(tx, deviceId)) ? listDeviceCertificates(tx, deviceId, q) : undefined));
      if (!page) throw deviceNotFound();
      return { status: 200, body: page };
    },
  },
  {
    method: 'get',
    path: `${CERTIFICATES}/{serial}`,
    operationId: 'getDeviceCertificate',
    summary: 'One certificate of a device, by serial number (lowercase hex)',
    tag: 'Provisioning',
    auth: 'viewer',
    textParams: ['serial'],
    responses: { 200: 'provisioning#/$defs/DeviceCertificate' },
    async handler(ctx) {
      const { deviceId, serialNumber } = await target(ctx);
      const certificate = await ctx.tenant((tx) => findDeviceCertificate(tx, deviceId, serialNumber));
      if (!certificate) throw deviceCertificateNotFound();
      return { status: 200, body: certificate };
    },
  },
  {
    method: 'post',
    path: `${CERTIFICATES}/{serial}/revoke`,
    operationId: 'revokeDeviceCertificate',
    summary: 'Revoke a certificate of a device: the broker refuses it from then on (revoking again changes nothing)',
    tag: 'Provisioning',
    auth: 'member',
    textParams: ['serial'],
    body: 'provisioning#/$defs/RevokeDeviceCertificate',
    responses: { 200: 'provisioning#/$defs/DeviceCertificate' },
    async handler(ctx) {
      const { deviceId, serialNumber } = await target(ctx);
      const reason = (ctx.body as { reason?: CertificateRevocationReason }).reason ?? 'UNSPECIFIED';
      const result = await revokeDeviceCertificate(ctx.deps.store, ctx.command, { deviceId, serialNumber, reason });
      await ctx.settle(result);
      const certificate = await ctx.tenant((tx) => findDeviceCertificate(tx, deviceId, serialNumber));
      if (!certificate) throw deviceCertificateNotFound();
      return { status: 200, body: certificate };
    },
  },
]);
