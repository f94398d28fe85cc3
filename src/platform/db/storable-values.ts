import type { FieldError } from '../errors';

const NUL = '\u0000';
const NUL_ALL = /\u0000/g;
/** Deeper JSON is refused: nothing the platform takes needs it, and every recursive step after the edge (hashing, drift, Postgres' jsonb parser) stays safe. */
export const MAX_JSON_DEPTH = 64;

/**
 * The first value in parsed JSON that Postgres cannot keep as it is, or
 * undefined. Postgres `text` and `jsonb` refuse the character U+0000 (NUL),
 * so a string or key holding it would fail the write (an event append, a
 * read model update) after it was accepted; and a JSON number beyond the
 * range of a double (`1e400`) parses as Infinity, which `jsonb` would keep
 * as `null`. The edges refuse both (HTTP bodies and query strings, device
 * payloads stored as JSON), so nothing accepted can fail later; where a
 * non-finite number has an answer of its own (a reading's value is
 * quarantined as NON_FINITE_VALUE), `nonFinite: 'allowed'` leaves it alone.
 * Arrays and objects nested deeper than MAX_JSON_DEPTH are refused too.
 */
export function unstorableValue(value: unknown, options: { readonly nonFinite?: 'allowed' } = {}): FieldError | undefined {
  // Depth first with a stack of its own: a body may nest deeper than the call stack goes.
  const pending: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value: item, path, depth } = next;
    if (depth > MAX_JSON_DEPTH) return { path: path || '/', message: `nests deeper than ${MAX_JSON_DEPTH} levels` };
    if (typeof item === 'string') {
      if (item.includes(NUL)) return { path: path || '/', message: 'must not contain the character U+0000' };
    } else if (typeof item === 'number') {
      if (!Number.isFinite(item) && options.nonFinite !== 'allowed') return { path: path || '/', message: 'must be a finite number' };
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i -= 1) pending.push({ value: item[i], path: `${path}/${i}`, depth: depth + 1 });
    } else if (item !== null && typeof item === 'object') {
      const entries = Object.entries(item);
      for (let i = entries.length - 1; i >= 0; i -= 1) {
        const [key, inner] = entries[i] as [string, unknown];
        if (key.includes(NUL)) return { path: `${path}/${key.replace(NUL_ALL, '\uFFFD')}`, message: 'must not contain the character U+0000 in a key' };
        pending.push({ value: inner, path: `${path}/${key}`, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

/**
 * Text as Postgres `text` can hold it: each U+0000 becomes U+FFFD, the
 * replacement character that already stands for bytes that are not UTF-8
 * when a payload is read as text. For what is kept only to be looked at (a
 * quarantined payload, an error's detail), where refusing is not an option.
 */
export function storableText(text: string): string {
  return text.includes(NUL) ? text.replace(NUL_ALL, '\uFFFD') : text;
}
