import { drift } from '../src/commands/desired-state/drift';

describe('drift', () => {
  it('lists the desired leaves the report lacks or differs on, in key order', () => {
    expect(drift({ b: 1, a: { y: [1, 2], x: 'on' }, c: null }, { a: { x: 'on', y: [2, 1] }, b: 1, c: null, extra: true })).toEqual([
      { path: '/a/y', desired: [1, 2], reported: [2, 1] },
    ]);
    expect(drift({ a: { x: 1 }, b: 2 }, {})).toEqual([
      { path: '/a', desired: { x: 1 } },
      { path: '/b', desired: 2 },
    ]);
    expect(drift({ a: { x: 1 } }, { a: 5 })).toEqual([{ path: '/a', desired: { x: 1 }, reported: 5 }]);
  });

  it('compares arrays and objects by value and escapes pointer characters', () => {
    expect(drift({ 'a/b': { '~k': [{ p: 1 }] } }, { 'a/b': { '~k': [{ p: 1 }] } })).toEqual([]);
    expect(drift({ 'a/b': { '~k': 1 } }, { 'a/b': { '~k': '1' } })).toEqual([{ path: '/a~1b/~0k', desired: 1, reported: '1' }]);
    expect(drift({ n: {} }, { n: { extra: 1 } })).toEqual([]);
    expect(drift({ v: [1] }, { v: [1, 2] })).toEqual([{ path: '/v', desired: [1], reported: [1, 2] }]);
  });
});
