import { apiKeysProjection } from './api-keys.projection';
import { organizationsProjection } from './organizations.projection';
import type { Projection } from './projection';
import { sitesProjection } from './sites.projection';

/** Every projection the platform runs. */
export const PROJECTIONS: readonly Projection[] = [organizationsProjection, apiKeysProjection, sitesProjection];

export function findProjection(name: string): Projection | undefined {
  return PROJECTIONS.find((p) => p.name === name);
}
