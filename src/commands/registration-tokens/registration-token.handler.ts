import { randomUUID } from 'node:crypto';
import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand, type CommandResult } from '../command-handler';
import type { CommandContext } from '../decider';
import { registrationTokenDecider, registrationTokenNotFound, registrationTokenUsed, type RegistrationTokenState } from './registration-token.decider';
import { registrationTokenStream, type RegistrationTokenEvent } from './registration-token.events';
import { generateRegistrationToken } from './registration-token.secret';

export interface IssueRegistrationTokenInput {
  readonly deviceId: string;
  readonly deviceName: string;
  readonly deviceCreated: boolean;
  readonly expiresInSeconds: number;
}

export interface IssuedRegistrationToken {
  readonly tokenId: string;
  /** Shown once; only a hash of its secret is recorded. */
  readonly token: string;
  readonly expiresAt: string;
  readonly result: CommandResult<RegistrationTokenEvent>;
}

export async function issueRegistrationToken(
  store: EventStore,
  context: CommandContext,
  input: IssueRegistrationTokenInput,
  now = new Date(),
): Promise<IssuedRegistrationToken> {
  const tokenId = randomUUID();
  const { token, secretHash } = generateRegistrationToken(tokenId, input.deviceId);
  const expiresAt = new Date(now.getTime() + input.expiresInSeconds * 1000).toISOString();
  const result = await handleCommand(
    store,
    registrationTokenDecider,
    registrationTokenStream(tokenId),
    {
      type: 'IssueRegistrationToken',
      data: { tokenId, deviceId: input.deviceId, deviceName: input.deviceName, secretHash, expiresAt, deviceCreated: input.deviceCreated, now: now.toISOString() },
    },
    context,
  );
  return { tokenId, token, expiresAt, result };
}

export function revokeRegistrationToken(
  store: EventStore,
  context: CommandContext,
  tokenId: string,
  now = new Date(),
): Promise<CommandResult<RegistrationTokenEvent>> {
  return handleCommand(
    store,
    registrationTokenDecider,
    registrationTokenStream(tokenId),
    { type: 'RevokeRegistrationToken', data: { tokenId, now: now.toISOString() } },
    context,
    { notFound: registrationTokenNotFound },
  );
}

export interface LoadedRegistrationToken {
  readonly state: RegistrationTokenState;
  /** From the token's own events: the only source of the organization a provisioning acts in. */
  readonly orgId: string;
}

/** The token by id alone, whatever its organization; undefined when there is no such token. */
export async function loadRegistrationToken(store: EventStore, tokenId: string): Promise<LoadedRegistrationToken | undefined> {
  const history = await store.readStream(registrationTokenStream(tokenId));
  const orgId = history[0]?.metadata.orgId;
  if (!orgId) return undefined;
  const state = history.reduce(
    (s, e) => registrationTokenDecider.evolve(s, { type: e.type, data: e.data } as RegistrationTokenEvent),
    registrationTokenDecider.initialState,
  );
  return { state, orgId };
}

/**
 * Appends RegistrationTokenRedeemed at the exact revision read. Of concurrent
 * redemptions one append wins; each loser's single retry re-decides on the
 * winner's event and is refused as used (or revoked), so exactly one caller
 * goes on to get a certificate.
 */
export async function redeemRegistrationToken(
  store: EventStore,
  context: CommandContext,
  tokenId: string,
  now = new Date(),
): Promise<CommandResult<RegistrationTokenEvent>> {
  const result = await handleCommand(
    store,
    registrationTokenDecider,
    registrationTokenStream(tokenId),
    { type: 'RedeemRegistrationToken', data: { tokenId, redemptionId: randomUUID(), now: now.toISOString() } },
    context,
    { retries: 1 },
  );
  // A redemption always decides an event; none would mean nothing was won.
  if (result.events.length === 0) throw registrationTokenUsed();
  return result;
}
