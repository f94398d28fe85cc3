import { randomUUID } from 'node:crypto';
import { entityDecider } from '../src/commands/entities/entity.decider';
import { siteDecider, type SiteFields } from '../src/commands/sites/site.decider';
import { ConflictError } from '../src/platform/errors';
import { spec } from './support/decider-spec';
import {
  AT,
  LATER,
  aCreateGadget,
  aDeleteGadget,
  aGadgetCreated,
  aGadgetDeleted,
  aGadgetUpdated,
  anUpdateGadget,
  gadgetDecider,
  gadgetFields,
  gadgetNotFound,
  type GadgetFields,
} from './support/gadget';

const gadget = spec(gadgetDecider);

describe('Entity', () => {
  it('names its events after the resource', () => {
    expect(gadgetDecider.eventTypes).toEqual(['GadgetCreated', 'GadgetUpdated', 'GadgetDeleted']);
    expect(siteDecider.eventTypes).toEqual(['SiteCreated', 'SiteUpdated', 'SiteDeleted']);
  });

  describe('when absent', () => {
    it('creates it with every field, its id and the command time', () => {
      const id = randomUUID();
      gadget.given([]).when(aCreateGadget(id, { name: 'Cog' }, AT)).then([aGadgetCreated(id, { name: 'Cog' }, AT)]);
    });

    it('refuses a creation that breaks a rule of the resource (UNPROCESSABLE, 422)', () => {
      gadget.given([]).when(aCreateGadget(randomUUID(), { size: -1 })).thenThrows({ code: 'UNPROCESSABLE', status: 422 });
    });

    it('refuses an update with the resource’s 404', () => {
      gadget.given([]).when(anUpdateGadget(randomUUID(), { name: 'x' })).thenThrows({ code: 'NOT_FOUND', status: 404, message: 'No gadget with this id.' });
    });

    it('refuses a deletion with the resource’s 404', () => {
      gadget.given([]).when(aDeleteGadget(randomUUID())).thenThrows({ code: 'NOT_FOUND', status: 404, message: 'No gadget with this id.' });
    });
  });

  describe('when active', () => {
    const id = randomUUID();
    const history = [aGadgetCreated(id)];

    it('refuses a second creation with CONFLICT (409)', () => {
      gadget.given(history).when(aCreateGadget(id)).thenThrows({ code: 'CONFLICT', status: 409 });
    });

    it('records only the fields that change', () => {
      const current = gadgetFields();
      gadget
        .given(history)
        .when(anUpdateGadget(id, { name: 'Renamed', size: current.size, tags: [...current.tags], note: 'fragile' }, LATER))
        .then([aGadgetUpdated(id, { name: 'Renamed', note: 'fragile' }, LATER)]);
    });

    it('treats an array in another order as a change', () => {
      gadget.given(history).when(anUpdateGadget(id, { tags: ['b', 'a'] })).then([aGadgetUpdated(id, { tags: ['b', 'a'] })]);
    });

    it('decides nothing for an update without changes', () => {
      gadget.given(history).when(anUpdateGadget(id, {})).then([]);
    });

    it('decides nothing when every given value equals the current one', () => {
      gadget.given(history).when(anUpdateGadget(id, gadgetFields())).then([]);
    });

    it('ignores undefined values', () => {
      gadget.given(history).when(anUpdateGadget(id, { name: undefined, note: undefined })).then([]);
    });

    it('decides nothing for an equal object whose keys come in another order', () => {
      // Event data is stored as jsonb, which reorders keys: the state rebuilt
      // from the store rarely has the keys in the order a client sends them.
      gadget.given(history).when(anUpdateGadget(id, { attributes: { finish: 'matt', colour: 'red' } })).then([]);
    });

    it('refuses an update whose result breaks a rule of the resource (UNPROCESSABLE, 422)', () => {
      gadget.given(history).when(anUpdateGadget(id, { size: -5 })).thenThrows({ code: 'UNPROCESSABLE', status: 422 });
    });

    it('deletes it', () => {
      gadget.given(history).when(aDeleteGadget(id, LATER)).then([aGadgetDeleted(id, LATER)]);
    });

    it('refuses a deletion the resource forbids', () => {
      gadget.given([aGadgetCreated(id, { locked: true })]).when(aDeleteGadget(id)).thenThrows({ code: 'CONFLICT', status: 409 });
    });
  });

  describe('when updated', () => {
    const id = randomUUID();
    const history = [aGadgetCreated(id, { name: 'Cog', size: 1 }), aGadgetUpdated(id, { name: 'Gear', attributes: { colour: 'blue' } })];

    it('decides from the updated fields', () => {
      gadget.given(history).when(anUpdateGadget(id, { name: 'Gear', attributes: { colour: 'blue' } })).then([]);
      gadget.given(history).when(anUpdateGadget(id, { name: 'Cog' })).then([aGadgetUpdated(id, { name: 'Cog' })]);
    });

    it('checks rules against the merged fields', () => {
      gadget.given([...history, aGadgetUpdated(id, { locked: true })]).when(aDeleteGadget(id)).thenThrows({ code: 'CONFLICT', status: 409 });
    });
  });

  describe('when deleted', () => {
    const id = randomUUID();
    const history = [aGadgetCreated(id), aGadgetDeleted(id)];

    it('refuses a creation under the same id with CONFLICT (409)', () => {
      gadget.given(history).when(aCreateGadget(id)).thenThrows({ code: 'CONFLICT', status: 409 });
    });

    it('refuses an update with the resource’s 404', () => {
      gadget.given(history).when(anUpdateGadget(id, { name: 'ghost' })).thenThrows({ code: 'NOT_FOUND', status: 404 });
    });

    it('refuses a second deletion with the resource’s 404', () => {
      gadget.given(history).when(aDeleteGadget(id)).thenThrows({ code: 'NOT_FOUND', status: 404 });
    });
  });
});

describe('Entity with fixed fields and readable deleted rows', () => {
  const previousSeen: GadgetFields[] = [];
  const kept = spec(
    entityDecider<'Gadget', GadgetFields>('Gadget', gadgetNotFound, {
      immutable: ['name'],
      whenDeleted: () => new ConflictError('CONFLICT', 'The gadget is retired.'),
      check: (_fields, previous) => void (previous && previousSeen.push(previous)),
    }),
  );
  const id = randomUUID();

  describe('when absent', () => {
    it('still answers updates and deletions with the resource’s 404', () => {
      kept.given([]).when(anUpdateGadget(id, { size: 1 })).thenThrows({ code: 'NOT_FOUND', status: 404 });
      kept.given([]).when(aDeleteGadget(id)).thenThrows({ code: 'NOT_FOUND', status: 404 });
    });
  });

  describe('when active', () => {
    const history = [aGadgetCreated(id, { name: 'Cog', size: 1 })];

    it('refuses a change of a fixed field with UNPROCESSABLE (422) naming it', () => {
      kept.given(history).when(anUpdateGadget(id, { name: 'Gear', size: 2 })).thenThrows({
        code: 'UNPROCESSABLE',
        status: 422,
        errors: [{ path: '/body/name', message: 'cannot change' }],
      });
    });

    it('accepts a fixed field repeated unchanged beside a real change', () => {
      kept.given(history).when(anUpdateGadget(id, { name: 'Cog', size: 2 })).then([aGadgetUpdated(id, { size: 2 })]);
    });

    it('gives the rule check the fields before the update', () => {
      previousSeen.length = 0;
      kept.given(history).when(anUpdateGadget(id, { size: 5 })).then([aGadgetUpdated(id, { size: 5 })]);
      expect(previousSeen).toEqual([gadgetFields({ name: 'Cog', size: 1 })]);
    });
  });

  describe('when deleted', () => {
    const history = [aGadgetCreated(id), aGadgetDeleted(id)];

    it('answers updates and deletions with its own conflict instead of 404', () => {
      kept.given(history).when(anUpdateGadget(id, { size: 1 })).thenThrows({ code: 'CONFLICT', status: 409, message: 'The gadget is retired.' });
      kept.given(history).when(aDeleteGadget(id)).thenThrows({ code: 'CONFLICT', status: 409, message: 'The gadget is retired.' });
    });
  });
});

describe('Site', () => {
  const site = spec(siteDecider);
  const fields = (overrides: Partial<SiteFields> = {}): SiteFields => ({
    name: 'Depot',
    address: null,
    timezone: 'Europe/Berlin',
    location: { latitude: 52.5, longitude: 13.4 },
    labels: { region: 'eu', floor: '2' },
    ...overrides,
  });

  describe('when absent', () => {
    it('creates it in a known time zone', () => {
      const id = randomUUID();
      site
        .given([])
        .when({ type: 'Create', data: { id, fields: fields(), now: AT } })
        .then([{ type: 'SiteCreated', data: { ...fields(), id, createdAt: AT } }]);
    });

    it('refuses an unknown time zone (UNPROCESSABLE, 422)', () => {
      site.given([]).when({ type: 'Create', data: { id: randomUUID(), fields: fields({ timezone: 'Mars/Olympus' }), now: AT } }).thenThrows({ code: 'UNPROCESSABLE' });
    });

    it('refuses an update with SITE_NOT_FOUND (404)', () => {
      site.given([]).when({ type: 'Update', data: { id: randomUUID(), changes: { name: 'x' }, now: AT } }).thenThrows({ code: 'SITE_NOT_FOUND', status: 404 });
    });
  });

  describe('when active', () => {
    const id = randomUUID();
    const history = [{ type: 'SiteCreated' as const, data: { ...fields(), id, createdAt: AT } }];

    it('refuses a move to an unknown time zone (UNPROCESSABLE, 422)', () => {
      site.given(history).when({ type: 'Update', data: { id, changes: { timezone: 'Nowhere/Land' }, now: LATER } }).thenThrows({ code: 'UNPROCESSABLE' });
    });

    it('decides nothing for the same labels in another key order', () => {
      site.given(history).when({ type: 'Update', data: { id, changes: { labels: { floor: '2', region: 'eu' } }, now: LATER } }).then([]);
    });
  });
});
