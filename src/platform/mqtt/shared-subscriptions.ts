import type Aedes from 'aedes';
import type { AedesPublishPacket, Client } from 'aedes';
import type { Logger } from '../logger';

/**
 * MQTT 5 style shared subscriptions (`$share/{group}/{filter}`) for the
 * embedded broker, which Aedes 0.x does not have: each message matching the
 * filter goes to one member of the group, round robin, so several ingesters
 * split the readings. The member's own subscription stays on the literal
 * `$share/...` filter (which matches no topic), so unsubscribing and session
 * cleanup work unchanged; this class adds one broker-level subscription per
 * group that does the delivery.
 */
export interface ShareFilter {
  readonly group: string;
  readonly filter: string;
}

interface Member {
  readonly client: Client;
  readonly qos: 0 | 1 | 2;
}

interface Group {
  readonly share: ShareFilter;
  readonly members: Map<string, Member>;
  next: number;
  readonly deliver: (packet: AedesPublishPacket, done: () => void) => void;
}

const SHARE = /^\$share\/([^/+#]+)\/(.+)$/;

export function parseShare(topic: string): ShareFilter | undefined {
  const match = SHARE.exec(topic);
  const [, group, filter] = match ?? [];
  return group === undefined || filter === undefined ? undefined : { group, filter };
}

export class SharedSubscriptions {
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly broker: Aedes,
    private readonly log: Logger,
  ) {}

  /** Idempotent: a restored persistent session joins again with its new client object. */
  join(client: Client, share: ShareFilter, qos: 0 | 1 | 2): void {
    const key = `${share.group}\n${share.filter}`;
    let group = this.groups.get(key);
    if (!group) {
      const created: Group = { share, members: new Map(), next: 0, deliver: (packet, done) => this.deliver(created, packet, done) };
      this.groups.set(key, created);
      this.broker.subscribe(share.filter, created.deliver, () => undefined);
      group = created;
    }
    group.members.set(client.id, { client, qos });
  }

  leave(client: Client, share: ShareFilter): void {
    const key = `${share.group}\n${share.filter}`;
    const group = this.groups.get(key);
    if (group?.members.get(client.id)?.client !== client) return;
    group.members.delete(client.id);
    if (group.members.size > 0) return;
    this.groups.delete(key);
    this.broker.unsubscribe(share.filter, group.deliver, () => undefined);
  }

  /** On disconnect; compares the client object, so a session that replaced this one keeps its membership. */
  leaveAll(client: Client): void {
    for (const group of [...this.groups.values()]) this.leave(client, group.share);
  }

  private deliver(group: Group, packet: AedesPublishPacket, done: () => void): void {
    // As for any wildcard subscription, `+` and `#` at the start never match $SYS topics.
    const members = [...group.members.values()];
    if (members.length === 0 || (packet.topic.startsWith('$') && /^[+#]/.test(group.share.filter))) return done();
    const index = group.next % members.length;
    group.next = index + 1;
    const member = members[index] as Member;
    const qos = Math.min(packet.qos, member.qos) as 0 | 1 | 2;
    member.client.publish({ cmd: 'publish', topic: packet.topic, payload: packet.payload, qos, retain: false, dup: false }, (err) => {
      if (err) this.log.warn({ err, clientId: member.client.id, topic: packet.topic }, 'shared subscription delivery failed');
      done();
    });
  }
}
