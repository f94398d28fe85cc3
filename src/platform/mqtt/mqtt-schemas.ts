import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
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
