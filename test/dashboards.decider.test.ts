import { dashboardDecider, dashboardDocumentErrors, dashboardStream } from '../src/commands/dashboards/dashboard.decider';
import { MAX_LAYOUT_BYTES, layoutReferences, withLowercaseIds, type DashboardWidget } from '../src/commands/dashboards/dashboard.layout';
import { siteDefaultDashboardDecider, siteDefaultDashboardStream, type SiteDefaultDashboardEvent } from '../src/commands/dashboards/site-default-dashboard.decider';
import { spec } from './support/decider-spec';
import { aCameraTile, aDashboardFields, aLayout, aStat, aTimeSeries, at } from './support/dashboards.builders';

const AT = '2025-01-01T00:00:00.000Z';
const LATER = '2025-01-01T00:05:00.000Z';
const S1 = '11111111-1111-4111-8111-111111111111';
const S2 = '22222222-2222-4222-8222-222222222222';
const D1 = '33333333-3333-4333-8333-333333333333';

describe('Dashboard', () => {
  const dashboard = spec(dashboardDecider);
  const create = (fields = aDashboardFields()) => dashboard.given([]).when({ type: 'Create', data: { id: 'b1', fields, now: AT } });

  it('lives in dashboard-<id>', () => {
    expect(dashboardStream('b1')).toBe('dashboard-b1');
  });

  it('creates a dashboard whose widgets fit the grid without overlapping', () => {
    const fields = aDashboardFields({ layout: aLayout(aTimeSeries([S1], at(0, 0, 12, 6)), aStat(S2, at(12, 0, 12, 3)), aCameraTile(D1, at(12, 3, 12, 3))) });
    create(fields).then([{ type: 'DashboardCreated', data: { id: 'b1', ...fields, createdAt: AT } }]);
  });

  describe('when the layout is inconsistent', () => {
    it.each([
      { name: 'two widgets with one id', widgets: [aTimeSeries([S1], at(0), {}, 'a'), aStat(S1, at(6), 'last', 'a')], path: '/body/layout/widgets/1/id' },
      { name: 'a widget past column 24', widgets: [aTimeSeries([S1], at(20, 0, 6))], path: '/body/layout/widgets/0/position' },
      { name: 'a widget past row 200', widgets: [aTimeSeries([S1], at(0, 198, 6, 4))], path: '/body/layout/widgets/0/position' },
      { name: 'overlapping widgets', widgets: [aTimeSeries([S1], at(0, 0, 6, 4)), aStat(S1, at(5, 3, 2, 2))], path: '/body/layout/widgets/1/position' },
      {
        name: 'a table naming two scopes',
        widgets: [{ id: 't', type: 'TABLE', title: '', position: at(0), config: { deviceIds: [D1], siteId: S1 } } as DashboardWidget],
        path: '/body/layout/widgets/0/config',
      },
      { name: 'a map naming no scope', widgets: [{ id: 'm', type: 'MAP', title: '', position: at(0), config: {} } as DashboardWidget], path: '/body/layout/widgets/0/config' },
      {
        name: 'an alert list of a site and a device',
        widgets: [{ id: 'l', type: 'ALERT_LIST', title: '', position: at(0), config: { siteId: S1, deviceId: D1 } } as DashboardWidget],
        path: '/body/layout/widgets/0/config',
      },
      {
        name: 'a gauge whose min is not below its max',
        widgets: [{ id: 'g', type: 'GAUGE', title: '', position: at(0), config: { sensorId: S1, function: 'last', min: 10, max: 10 } } as DashboardWidget],
        path: '/body/layout/widgets/0/config/min',
      },
      {
        name: 'an unknown widget type',
        widgets: [{ id: 'x', type: 'PIE', title: '', position: at(0), config: {} } as unknown as DashboardWidget],
        path: '/body/layout/widgets/0/type',
      },
    ])('refuses $name with 422 naming the JSON pointer', ({ widgets, path }) => {
      const fields = aDashboardFields({ layout: aLayout(...widgets) });
      create(fields).thenThrows({ code: 'UNPROCESSABLE', status: 422, errors: [expect.objectContaining({ path })] });
      expect(dashboardDocumentErrors(fields, '/items/3')).toEqual([expect.objectContaining({ path: path.replace('/body', '/items/3') })]);
    });

    it('refuses a layout above 64 KiB of JSON with 413, and more than 50 widgets with 422', () => {
      const wide = aTimeSeries([S1], at(0, 0, 24, 1), { bucket: 60 });
      const heavy = { ...wide, title: 'x'.repeat(200) };
      const many = Array.from({ length: 51 }, (_, i) => ({ ...heavy, id: `w${i}`, position: at(0, i, 24, 1) }));
      expect(JSON.stringify(aLayout(...many.slice(0, 50))).length).toBeLessThan(MAX_LAYOUT_BYTES);
      create(aDashboardFields({ layout: aLayout(...many) })).thenThrows({ code: 'UNPROCESSABLE', errors: [{ path: '/body/layout/widgets', message: 'must hold at most 50 widgets' }] });
      const huge = many.slice(0, 50).map((w) => ({ ...w, title: 'é'.repeat(700) }));
      create(aDashboardFields({ layout: aLayout(...huge) })).thenThrows({ code: 'PAYLOAD_TOO_LARGE', status: 413, errors: [{ path: '/body/layout', message: `must be at most ${MAX_LAYOUT_BYTES} bytes of JSON` }] });
    });
  });

  describe('when it exists', () => {
    const fields = aDashboardFields();
    const created = { type: 'DashboardCreated' as const, data: { id: 'b1', ...fields, createdAt: AT } };

    it('checks the merged layout on an update and keeps its owner', () => {
      const overlapping = aLayout(aTimeSeries([S1], at(0)), aStat(S1, at(0)));
      dashboard.given([created]).when({ type: 'Update', data: { id: 'b1', changes: { layout: overlapping }, now: LATER } }).thenThrows({ code: 'UNPROCESSABLE', status: 422 });
      dashboard.given([created]).when({ type: 'Update', data: { id: 'b1', changes: { owner: 'user:mallory' }, now: LATER } }).thenThrows({ code: 'UNPROCESSABLE', errors: [{ path: '/body/owner', message: 'cannot change' }] });
      dashboard.given([created]).when({ type: 'Update', data: { id: 'b1', changes: { visibility: 'PRIVATE' }, now: LATER } }).then([
        { type: 'DashboardUpdated', data: { id: 'b1', changes: { visibility: 'PRIVATE' }, updatedAt: LATER } },
      ]);
    });

    it('is not found once deleted', () => {
      const deleted = { type: 'DashboardDeleted' as const, data: { id: 'b1', deletedAt: LATER } };
      dashboard.given([created, deleted]).when({ type: 'Update', data: { id: 'b1', changes: { name: 'x' }, now: LATER } }).thenThrows({ code: 'DASHBOARD_NOT_FOUND', status: 404 });
    });
  });
});

describe('a dashboard layout', () => {
  it('lists every reference with its pointer and kind', () => {
    const layout = aLayout(
      aTimeSeries([S1, S2]),
      { id: 't', type: 'TABLE', title: '', position: at(6), config: { groupId: D1, sensorKey: 'temp' } },
      { id: 'l', type: 'ALERT_LIST', title: '', position: at(12), config: { siteId: S2 } },
      aCameraTile(D1, at(18)),
    );
    expect(layoutReferences(layout, '/layout')).toEqual([
      { path: '/layout/widgets/0/config/sensorIds/0', kind: 'sensor', id: S1 },
      { path: '/layout/widgets/0/config/sensorIds/1', kind: 'sensor', id: S2 },
      { path: '/layout/widgets/1/config/groupId', kind: 'deviceGroup', id: D1 },
      { path: '/layout/widgets/2/config/siteId', kind: 'site', id: S2 },
      { path: '/layout/widgets/3/config/deviceId', kind: 'device', id: D1 },
    ]);
  });

  it('lower-cases ids and nothing else', () => {
    const layout = aLayout(aTimeSeries([S1.toUpperCase()]), aCameraTile(D1.toUpperCase(), at(6)));
    expect(withLowercaseIds(layout)).toEqual(aLayout(aTimeSeries([S1]), aCameraTile(D1, at(6))));
  });
});

describe('SiteDefaultDashboard', () => {
  const choice = spec(siteDefaultDashboardDecider);
  const set = (dashboardId: string, setAt = AT): SiteDefaultDashboardEvent => ({ type: 'SiteDefaultDashboardSet', data: { siteId: 's1', dashboardId, setAt } });

  it('lives in siteDefaultDashboard-<site>', () => {
    expect(siteDefaultDashboardStream('s1')).toBe('siteDefaultDashboard-s1');
  });

  it('sets a default, replaces it with another, and sets the same one only once', () => {
    choice.given([]).when({ type: 'SetSiteDefaultDashboard', data: { siteId: 's1', dashboardId: 'b1', now: AT } }).then([set('b1')]);
    choice.given([set('b1')]).when({ type: 'SetSiteDefaultDashboard', data: { siteId: 's1', dashboardId: 'b2', now: LATER } }).then([set('b2', LATER)]);
    choice.given([set('b1')]).when({ type: 'SetSiteDefaultDashboard', data: { siteId: 's1', dashboardId: 'b1', now: LATER } }).then([]);
  });

  it('clears the default, but not a newer choice when asked to clear only a given dashboard', () => {
    const cleared: SiteDefaultDashboardEvent = { type: 'SiteDefaultDashboardCleared', data: { siteId: 's1', dashboardId: 'b1', clearedAt: LATER } };
    choice.given([set('b1')]).when({ type: 'ClearSiteDefaultDashboard', data: { siteId: 's1', now: LATER } }).then([cleared]);
    choice.given([set('b1')]).when({ type: 'ClearSiteDefaultDashboard', data: { siteId: 's1', onlyIf: 'b1', now: LATER } }).then([cleared]);
    choice.given([set('b1'), set('b2')]).when({ type: 'ClearSiteDefaultDashboard', data: { siteId: 's1', onlyIf: 'b1', now: LATER } }).then([]);
    choice.given([set('b1'), cleared]).when({ type: 'ClearSiteDefaultDashboard', data: { siteId: 's1', now: LATER } }).then([]);
  });
});
