import { siteDecider } from '../commands/sites/site.decider';
import { entityProjection } from './entity.projection';

export const sitesProjection = entityProjection({
  name: 'sites',
  table: 'sites',
  decider: siteDecider,
  columns: { name: 'name', address: 'address', timezone: 'timezone', location: 'location', labels: 'labels' },
});
