import type { SiteFields } from '../../commands/sites/site.decider';
import { siteNotFound } from '../../commands/sites/site.decider';
import { siteCommands } from '../../commands/sites/site.handler';
import { entityQueries, textSearch } from '../entity.queries';
import { entityRoutes } from '../entity.routes';
import { siteColumns } from '../../projections/sites.projection';

export interface SiteView extends SiteFields {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export const siteQueries = entityQueries<SiteView>({
  table: 'sites',
  fields: siteColumns,
  filters: [textSearch()],
});

export const siteRoutes = entityRoutes<SiteFields, SiteView>({
  collection: '/v1/sites',
  tag: 'Sites',
  singular: 'Site',
  plural: 'Sites',
  schema: 'sites',
  commands: siteCommands,
  queries: siteQueries,
  notFound: siteNotFound,
  toFields: (body) => ({
    name: body.name as string,
    address: (body.address as string | null | undefined) ?? null,
    timezone: (body.timezone as string | undefined) ?? 'UTC',
    location: (body.location as SiteFields['location'] | undefined) ?? null,
    labels: (body.labels as Record<string, string> | undefined) ?? {},
  }),
});
