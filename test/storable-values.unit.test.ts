import { storableText, unstorableValue } from '../src/platform/db/storable-values';

describe('values Postgres cannot store', () => {
  it('finds U+0000 in a string or a key, and a non-finite number, with its path', () => {
    expect(unstorableValue({ a: [1, { b: 'x\u0000' }] })).toEqual({ path: '/a/1/b', message: 'must not contain the character U+0000' });
    expect(unstorableValue({ 'k\u0000': 1 })?.path).toBe('/k\uFFFD');
    expect(unstorableValue(JSON.parse('{"n": [1, 1e400]}'))).toEqual({ path: '/n/1', message: 'must be a finite number' });
    expect(unstorableValue('\u0000')?.path).toBe('/');
  });

  it('leaves non-finite numbers alone when asked, and passes what is storable', () => {
    expect(unstorableValue([Infinity, 'ok'], { nonFinite: 'allowed' })).toBeUndefined();
    expect(unstorableValue({ a: [null, true, 1.5, 'text \uFFFD', {}] })).toBeUndefined();
  });

  it('walks nesting deeper than the call stack', () => {
    let deep: unknown = ['\u0000'];
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    expect(unstorableValue(deep)?.message).toBe('must not contain the character U+0000');
  });

  it('shows NUL in kept text as U+FFFD', () => {
    expect(storableText('a\u0000b\u0000')).toBe('a\uFFFDb\uFFFD');
    expect(storableText('plain')).toBe('plain');
  });
});
