import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { FieldError } from '../platform/errors';
import { isDateTime } from '../platform/mqtt/date-time-format';
import { projectRoot } from '../platform/project-root';

export const SCHEMAS_DIR = path.join(projectRoot(), 'schemas');

export interface SchemaDocument {
  /** `$id`, also the name under /api/schemas/{name} (e.g. `sites`, `mqtt/readings`). */
  readonly name: string;
  readonly document: Record<string, unknown>;
}

function listJsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return listJsonFiles(full);
    return entry.endsWith('.json') ? [full] : [];
  });
}

/**
 * Every JSON Schema under `schemas/`, loaded and compiled once at start. The
 * same documents drive request validation, the OpenAPI document and
 * `/api/schemas`. Bodies are validated strictly (no coercion, first error
 * only); query strings with type coercion, since they arrive as text.
 */
export class SchemaRegistry {
  readonly documents: readonly SchemaDocument[];
  private readonly bodies: Ajv2020;
  private readonly queries: Ajv2020;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(dir = SCHEMAS_DIR) {
    this.documents = listJsonFiles(dir)
      .sort()
      .map((file) => {
        const document = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        const name = document.$id;
        if (typeof name !== 'string') throw new Error(`${file} has no $id`);
        return { name, document };
      });
    this.bodies = this.createAjv({ coerceTypes: false, useDefaults: false });
    this.queries = this.createAjv({ coerceTypes: 'array', useDefaults: true });
  }

  document(name: string): SchemaDocument | undefined {
    return this.documents.find((d) => d.name === name);
  }

  /** Validates a body against `ref` (`file#/$defs/Name`); returns field errors, empty when valid. */
  validateBody(ref: string, value: unknown): FieldError[] {
    return this.run(this.bodies, `b:${ref}`, ref, value);
  }

  /** Validates (and coerces, fills defaults in) a query object in place. */
  validateQuery(ref: string, value: Record<string, unknown>): FieldError[] {
    return this.run(this.queries, `q:${ref}`, ref, value);
  }

  /** For tests and response checks: the full list of errors. */
  validateResponse(ref: string, value: unknown): FieldError[] {
    return this.run(this.bodies, `b:${ref}`, ref, value);
  }

  private run(ajv: Ajv2020, key: string, ref: string, value: unknown): FieldError[] {
    let validate = this.cache.get(key);
    if (!validate) {
      validate = ajv.getSchema(ref);
      if (!validate) throw new Error(`unknown schema ${ref}`);
      this.cache.set(key, validate);
    }
    return validate(value) ? [] : (validate.errors ?? []).map(toFieldError);
  }

  private createAjv(options: { coerceTypes: false | 'array'; useDefaults: boolean }): Ajv2020 {
    const ajv = new Ajv2020({ allErrors: false, strict: true, ...options });
    addFormats(ajv);
    ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
    for (const { document } of this.documents) ajv.addSchema(document);
    return ajv;
  }
}

function toFieldError(error: ErrorObject): FieldError {
  const base = error.instancePath || '/';
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty?: string }).additionalProperty;
    return { path: `${error.instancePath}/${extra ?? ''}`, message: 'is not allowed' };
  }
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty?: string }).missingProperty;
    return { path: `${error.instancePath}/${missing ?? ''}`, message: 'is required' };
  }
  return { path: base, message: error.message ?? 'is invalid' };
}
