import { NotFoundError } from '../../platform/errors';
import { entityDecider } from '../entities/entity.decider';

export type ComponentKind = 'BOARD' | 'CAMERA' | 'SENSOR_HEAD' | 'MODEM' | 'POWER' | 'OTHER';

export interface ComponentFields {
  deviceId: string;
  /** Unique per device. */
  key: string;
  kind: ComponentKind;
  name: string | null;
  model: string | null;
  serialNumber: string | null;
  firmwareVersion: string | null;
}

export const componentNotFound = (): NotFoundError => new NotFoundError('COMPONENT_NOT_FOUND', 'No component with this id.');

/** A component stays on the device it was created for, under the same key. */
export const componentDecider = entityDecider<'Component', ComponentFields>('Component', componentNotFound, {
  immutable: ['deviceId', 'key'],
});

export function componentStream(id: string): string {
  return `component-${id}`;
}
