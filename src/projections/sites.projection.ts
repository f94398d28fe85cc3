import { siteDecider } from '../commands/sites/site.decider';
import { entityProjection } from './entity.projection';

/** Read-model columns of each field; the API's queries read the same map. */
export const siteColumns = { name: 'name', address: 'address', timezone: 'timezone', location: 'location', labels: 'labels' } as const;

export const sitesProjection = entityProjection({
  name: 'sites',
  table: 'sites',
  decider: siteDecider,
  columns: siteColumns,
});
