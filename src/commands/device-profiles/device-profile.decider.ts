import { AppError, NotFoundError, type FieldError } from '../../platform/errors';
import type { ComponentKind } from '../components/component.decider';
import { entityDecider } from '../entities/entity.decider';

export interface ExpectedComponent {
  key: string;
  kind: ComponentKind;
}

export interface ExpectedSensor {
  key: string;
  sensorProfileId: string | null;
  unit: string | null;
}

export interface DeviceProfileFields {
  name: string;
  description: string | null;
  expectedComponents: ExpectedComponent[];
  expectedSensors: ExpectedSensor[];
  defaultConfig: Record<string, unknown>;
}

/** Serialised size limit of defaultConfig; the schema can only bound its number of properties. */
export const DEFAULT_CONFIG_MAX_BYTES = 32 * 1024;

export const deviceProfileNotFound = (): NotFoundError => new NotFoundError('DEVICE_PROFILE_NOT_FOUND', 'No device profile with this id.');

function duplicateKeys(path: string, items: readonly { key: string }[]): FieldError[] {
  const seen = new Set<string>();
  return items.flatMap((item, i) => {
    if (!seen.has(item.key)) {
      seen.add(item.key);
      return [];
    }
    return [{ path: `${path}/${i}/key`, message: `duplicates key ${item.key}` }];
  });
}

export const deviceProfileDecider = entityDecider<'DeviceProfile', DeviceProfileFields>('DeviceProfile', deviceProfileNotFound, {
  check(fields) {
    const errors = [
      ...duplicateKeys('/body/expectedComponents', fields.expectedComponents),
      ...duplicateKeys('/body/expectedSensors', fields.expectedSensors),
    ];
    if (Buffer.byteLength(JSON.stringify(fields.defaultConfig), 'utf8') > DEFAULT_CONFIG_MAX_BYTES) {
      errors.push({ path: '/body/defaultConfig', message: `must be at most ${DEFAULT_CONFIG_MAX_BYTES} bytes as JSON` });
    }
    if (errors.length > 0) throw new AppError('UNPROCESSABLE', 'The device profile breaks a rule.', errors);
  },
});

export function deviceProfileStream(id: string): string {
  return `deviceProfile-${id}`;
}
