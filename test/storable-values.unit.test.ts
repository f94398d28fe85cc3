import { MAX_JSON_DEPTH, storableText, unstorableValue } from '../src/platform/db/storable-values';

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

  it('refuses nesting deeper than MAX_JSON_DEPTH, however deep (no recursion)', () => {
    const nested = (levels: number): unknown => {
      let value: unknown = 1;
      for (let i = 0; i < levels; i += 1) value = i % 2 === 0 ? [value] : { a: value };
      return value;
    };
    expect(unstorableValue(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(unstorableValue(nested(MAX_JSON_DEPTH + 1))?.message).toBe(`nests deeper than ${MAX_JSON_DEPTH} levels`);
    expect(unstorableValue(nested(1_000_000))?.message).toBe(`nests deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it('shows NUL in kept text as U+FFFD', () => {
    expect(storableText('a\u0000b\u0000')).toBe('a\uFFFDb\uFFFD');
    expect(storableText('plain')).toBe('plain');
  });
});
