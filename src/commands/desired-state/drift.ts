type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface DriftEntry {
  /** JSON Pointer (RFC 6901) into the desired document. */
  path: string;
  desired: unknown;
  /** What the device reported at that path; absent when it reported nothing there. */
  reported?: unknown;
}

const escape = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => equal(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return false;
}

/**
 * Where the reported state differs from the desired one: every leaf of the
 * desired document (objects are walked, arrays and scalars are leaves)
 * whose reported value is missing or not equal; a missing object is one
 * entry. What the device reports beyond the desired document is not drift.
 * Entries are in key order, whatever order the documents' keys came in.
 */
export function drift(desired: Json, reported: Json, prefix = ''): DriftEntry[] {
  const entries: DriftEntry[] = [];
  for (const key of Object.keys(desired).sort()) {
    const want = desired[key];
    const path = `${prefix}/${escape(key)}`;
    const has = Object.hasOwn(reported, key);
    const got = has ? reported[key] : undefined;
    if (isObject(want) && isObject(got)) entries.push(...drift(want, got, path));
    else if (!has) entries.push({ path, desired: want });
    else if (!equal(want, got)) entries.push({ path, desired: want, reported: got });
  }
  return entries;
}
