import { randomUUID } from 'node:crypto';
import { deviceQueries } from '../src/api/routes/devices.queries';
import { siteQueries } from '../src/api/routes/sites.routes';
import type { CommandContext } from '../src/commands/decider';
import { deviceCommands } from '../src/commands/devices/device.handler';
import { siteCommands } from '../src/commands/sites/site.handler';
import type { Queryable } from '../src/platform/db/pool';
import type { EventStore } from '../src/platform/event-store/event-store.port';

/** What the API benchmark needs to know about the resource it loads and reads. */
export interface BenchResource {
  /** Collection path, e.g. `/api/v1/devices`. */
  readonly path: string;
  /** Schema of the list query: the raw loop applies its defaults as the API does. */
  readonly listQuerySchema: string;
  /** A label for the filtered list, e.g. `?siteId=…&limit=50`. */
  readonly filterLabel: string;
  /** Whatever must exist before the rows (devices: their sites); returns what `create` and `filter` use. */
  prepare(store: EventStore, ctx: () => CommandContext): Promise<string[]>;
  create(store: EventStore, ctx: CommandContext, id: string, index: number, prepared: readonly string[]): Promise<unknown>;
  /** Query parameters of one filtered list request. */
  filter(prepared: readonly string[]): Record<string, string>;
  find(db: Queryable, id: string): Promise<unknown>;
  list(db: Queryable, query: Readonly<Record<string, unknown>>): Promise<unknown>;
}

const SITES = 20;
const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)] as T;

const aSite = (name: string) => ({ name, address: null, timezone: 'UTC', location: null, labels: {} });

export const BENCH_RESOURCES = {
  /** 10,000 devices spread over 20 sites; the list filters by site (≈500 devices each). */
  devices: {
    path: '/api/v1/devices',
    listQuerySchema: 'devices#/$defs/ListDevicesQuery',
    filterLabel: '?siteId=…&limit=50',
    async prepare(store, ctx) {
      const ids = Array.from({ length: SITES }, () => randomUUID());
      for (const [i, id] of ids.entries()) await siteCommands.create(store, ctx(), id, aSite(`bench site ${i}`));
      return ids;
    },
    create: (store, ctx, id, index, sites) =>
      deviceCommands.create(store, ctx, id, {
        name: `bench device ${index}`,
        siteId: sites[index % sites.length] ?? null,
        deviceProfileId: null,
        serialNumber: `SN-${String(index).padStart(6, '0')}`,
        labels: { bench: 'true' },
        tags: ['bench'],
        status: 'ACTIVE',
      }),
    filter: (sites) => ({ siteId: pick(sites), limit: '50' }),
    find: (db, id) => deviceQueries.find(db, id),
    list: (db, query) => deviceQueries.list(db, query),
  },
  /** Sites named `bench site N`; the list filters by a name fragment that matches about a tenth of them. */
  sites: {
    path: '/api/v1/sites',
    listQuerySchema: 'sites#/$defs/ListSitesQuery',
    filterLabel: '?q=…&limit=50',
    prepare: async () => [],
    create: (store, ctx, id, index) => siteCommands.create(store, ctx, id, aSite(`bench site ${index}`)),
    filter: () => ({ q: `site ${Math.floor(Math.random() * 10)}`, limit: '50' }),
    find: (db, id) => siteQueries.find(db, id),
    list: (db, query) => siteQueries.list(db, query),
  },
} satisfies Record<string, BenchResource>;
