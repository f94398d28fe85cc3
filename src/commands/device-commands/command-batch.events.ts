import type { DomainEvent } from '../decider';

/**
 * A command to every member of a device group, as the group was when it
 * was created. The per-device command ids are recorded (and derived from
 * the batch id), so a retry queues exactly these commands and no others.
 */
export type CommandBatchCreated = DomainEvent<
  'CommandBatchCreated',
  {
    id: string;
    groupId: string;
    name: string;
    params: Record<string, unknown>;
    timeoutSeconds: number;
    expiresAt: string;
    createdAt: string;
    commands: { deviceId: string; commandId: string }[];
  }
>;

export type CommandBatchEvent = CommandBatchCreated;

export const COMMAND_BATCH_EVENT_TYPES: readonly CommandBatchEvent['type'][] = ['CommandBatchCreated'];

export function commandBatchStream(id: string): string {
  return `command-batch-${id}`;
}
