import type { ByteRange } from '../platform/blobs/blob-store.port';

export type RangeAnswer =
  /** No usable Range header (absent, malformed, several ranges, another unit): send the whole body, 200. */
  | { readonly kind: 'whole' }
  | { readonly kind: 'partial'; readonly range: ByteRange }
  /** A well-formed range that lies past the end: 416 with `Content-Range: bytes *\/size`. */
  | { readonly kind: 'unsatisfiable' };

const WHOLE: RangeAnswer = { kind: 'whole' };

/**
 * One `Range: bytes=…` range of a body of `size` bytes (RFC 9110 §14):
 * `first-last`, `first-` or the suffix `-length`. A header a server may
 * ignore is ignored; multiple ranges are answered with the whole body,
 * which the RFC allows.
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return WHOLE;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return WHOLE;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return WHOLE;
  if (first === '') {
    const length = Number(last);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - length), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Number(last);
  if (last !== '' && end < start) return WHOLE;
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', range: { start, end: Math.min(end, size - 1) } };
}
