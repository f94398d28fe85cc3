import { AppError, NotFoundError } from '../../platform/errors';
import { entityDecider } from '../entities/entity.decider';

export interface SiteFields {
  name: string;
  address: string | null;
  timezone: string;
  location: { latitude: number; longitude: number } | null;
  labels: Record<string, string>;
}

export const siteNotFound = (): NotFoundError => new NotFoundError('SITE_NOT_FOUND', 'No site with this id.');

const TIMEZONES = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);

export const siteDecider = entityDecider<'Site', SiteFields>('Site', siteNotFound, {
  check(fields) {
    if (!TIMEZONES.has(fields.timezone)) {
      throw new AppError('UNPROCESSABLE', `Unknown time zone ${fields.timezone}.`, [{ path: '/body/timezone', message: 'is not an IANA time zone' }]);
    }
  },
});

export function siteStream(id: string): string {
  return `site-${id}`;
}
