import type { Client } from 'aedes';
import type { BrokerIdentity } from './broker-identity';

/**
 * The authenticated connections of the broker and why each one ended. A
 * client is live until its socket closes; its identity stays readable after
 * that (Aedes reports the disconnect later) and goes with the client object.
 */
export class BrokerSessions {
  private readonly live = new Set<Client>();
  private readonly identities = new WeakMap<Client, BrokerIdentity>();
  private readonly reasons = new WeakMap<Client, string>();

  add(client: Client, identity: BrokerIdentity): void {
    this.identities.set(client, identity);
    this.live.add(client);
    client.conn.once('close', () => this.live.delete(client));
  }

  identity(client: Client): BrokerIdentity | undefined {
    return this.identities.get(client);
  }

  withSerial(serialNumber: string): Client[] {
    return this.filter((identity) => identity.serialNumber === serialNumber);
  }

  withClientId(clientId: string): Client[] {
    return this.filter((identity) => identity.clientId === clientId);
  }

  all(): Client[] {
    return [...this.live];
  }

  /** The first cause recorded wins: a revocation is not overwritten by the socket error it causes. */
  noteEnd(client: Client, reason: string): void {
    if (!this.reasons.has(client)) this.reasons.set(client, reason);
  }

  endReason(client: Client): string {
    const noted = this.reasons.get(client);
    if (noted !== undefined) return noted;
    return sentDisconnect(client) ? 'client disconnected' : 'connection closed';
  }

  private filter(predicate: (identity: BrokerIdentity) => boolean): Client[] {
    return [...this.live].filter((client) => {
      const identity = this.identities.get(client);
      return identity !== undefined && predicate(identity);
    });
  }
}

/** Aedes records a DISCONNECT packet only in this internal field, which its typings leave out. */
function sentDisconnect(client: Client): boolean {
  return (client as Client & { _disconnected?: unknown })._disconnected === true;
}
