import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { unstorableValue } from '../db/storable-values';
import { projectRoot } from '../project-root';
import { isDateTime } from './date-time-format';

let ajv: Ajv2020 | undefined;

/** One ajv for the MQTT payload schemas (schemas/mqtt/*.json), each compiled once. */
function mqttAjv(): Ajv2020 {
  if (ajv) return ajv;
  ajv = new Ajv2020({ allErrors: false, strict: true });
  addFormats(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
  return ajv;
}

/**
 * The validator of an MQTT payload schema, e.g. `mqttSchema('readings')`, or
 * of a part of one by JSON pointer (`mqttSchema('readings', '/properties/readings/items')`).
 */
export function mqttSchema<T>(name: string, pointer = ''): ValidateFunction<T> {
  const instance = mqttAjv();
  const id = `mqtt-${name}`;
  if (!instance.getSchema(id)) {
    instance.addSchema(JSON.parse(readFileSync(path.join(projectRoot(), 'schemas', 'mqtt', `${name}.json`), 'utf8')) as object);
  }
  const validate = instance.getSchema<T>(`${id}#${pointer}`);
  if (!validate) throw new Error(`unknown MQTT schema ${id}#${pointer}`);
  return validate;
}

export type DevicePayload<T> = { readonly value: T } | { readonly error: string; readonly parsed?: unknown };

/**
 * A device's JSON payload, read and checked in the one order every topic
 * uses: its size, JSON, what Postgres can store (no U+0000 in a string, no
 * number beyond a double, at most 64 levels deep; docs/mqtt.md), then the topic's schema. `parsed`
 * is what was read when only the checks after JSON failed.
 */
export function readDevicePayload<T>(payload: Buffer | string, validate: ValidateFunction<T>, maxBytes: number): DevicePayload<T> {
  if (payload.length > maxBytes) return { error: `larger than ${maxBytes} bytes` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return { error: 'not JSON' };
  }
  const unstorable = unstorableValue(parsed);
  if (unstorable) return { error: `${unstorable.path} ${unstorable.message}`, parsed };
  if (validate(parsed)) return { value: parsed };
  const first = validate.errors?.[0];
  return { error: `${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}`, parsed };
}
