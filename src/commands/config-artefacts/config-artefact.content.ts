import { createHash } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { AppError, type FieldError } from '../../platform/errors';
import type { ConfigArtefactContent, ContentSchema } from './config-artefact.decider';

/** Largest canonical JSON of a version's content (documented in README.md). */
export const MAX_CONTENT_BYTES = 32 * 1024;
/** Field errors reported for content that does not match its schema. */
const MAX_CONTENT_ERRORS = 5;

/** Object keys sorted, arrays kept in order: the same document always gives the same text. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v === null || typeof v !== 'object') return v;
    const record = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(record).sort().map((key) => [key, sort(record[key])]));
  };
  return JSON.stringify(sort(value));
}

/** SHA-256 (hex) of a document's canonical JSON: its version, equal for equal documents. */
export function contentVersion(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function unprocessable(message: string, errors: FieldError[]): AppError {
  return new AppError('UNPROCESSABLE', message, errors);
}

/**
 * Checks a version's content (a JSON object, at most MAX_CONTENT_BYTES as
 * canonical JSON, valid against `schema` when there is one) and hashes it.
 * Each schema gets its own ajv: client schemas may carry `$id`s that would
 * collide in a shared instance, and nothing they add should outlive the request.
 */
export function checkContent(content: unknown, schema: ContentSchema): ConfigArtefactContent {
  if (content === null || typeof content !== 'object' || Array.isArray(content)) {
    throw unprocessable('The content must be a JSON object.', [{ path: '/body/content', message: 'must be an object' }]);
  }
  const text = canonicalJson(content);
  if (Buffer.byteLength(text, 'utf8') > MAX_CONTENT_BYTES) {
    throw new AppError('PAYLOAD_TOO_LARGE', `The content is larger than ${MAX_CONTENT_BYTES} bytes as canonical JSON.`, [
      { path: '/body/content', message: `must be at most ${MAX_CONTENT_BYTES} bytes` },
    ]);
  }
  if (schema !== null) {
    const ajv = new Ajv2020({ strict: false, allErrors: false });
    addFormats(ajv);
    let validate;
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      throw unprocessable('The schema is not a valid JSON Schema.', [{ path: '/body/schema', message: (error as Error).message }]);
    }
    if (!validate(content)) {
      const errors = (validate.errors ?? []).slice(0, MAX_CONTENT_ERRORS).map((e) => ({
        path: `/body/content${e.instancePath}`,
        message: e.message ?? 'is invalid',
      }));
      throw unprocessable('The content does not match its schema.', errors);
    }
  }
  return { content: content as Record<string, unknown>, schema, contentHash: createHash('sha256').update(text).digest('hex') };
}
