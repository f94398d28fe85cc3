import { apiKeysProjection } from './api-keys.projection';
import { organizationsProjection } from './organizations.projection';
import type { Projection } from './projection';

/** Every projection the platform runs. */
export const PROJECTIONS: readonly Projection[] = [organizationsProjection, apiKeysProjection];

export function findProjection(name: string): Projection | undefined {
  return PROJECTIONS.find((p) => p.name === name);
}
