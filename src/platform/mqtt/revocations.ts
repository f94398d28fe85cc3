import { normalizeSerial } from './broker-identity';

/** Provisioning's event (src/commands/device-certificates), named here because the platform room imports nothing above it. */
export const CERTIFICATE_REVOKED_EVENT = 'DeviceCertificateRevoked';

/** The live set of revoked certificate serials the broker checks at every connect. */
export class RevokedSerials {
  private readonly serials = new Set<string>();

  /** Adds a serial; false when it was already revoked or is not hex. */
  add(serial: string): boolean {
    const normalized = normalizeSerial(serial);
    if (normalized === undefined || this.serials.has(normalized)) return false;
    this.serials.add(normalized);
    return true;
  }

  has(serial: string): boolean {
    const normalized = normalizeSerial(serial);
    return normalized !== undefined && this.serials.has(normalized);
  }

  get size(): number {
    return this.serials.size;
  }
}
