import type { AedesOptions, AedesPublishPacket, AuthenticateError, AuthErrorCode, Client, PublishPacket } from 'aedes';
import type { Logger } from '../logger';
import { identify } from './broker-identity';
import { DEFAULT_MOSQUITTO_LIMITS } from './mosquitto-config';
import type { BrokerSessions } from './broker-sessions';
import type { RevokedSerials } from './revocations';
import { parseShare, type SharedSubscriptions } from './shared-subscriptions';
import { deviceIdOf, devicePublishAllowed, deviceSubscribeAllowed } from './topics';

/**
 * Who may connect, publish and subscribe. Everything is keyed on the
 * certificate identity, never on what the client claims: the client id must
 * equal the certificate's CN, so no one can take over another device's or
 * the platform's session.
 */
export interface AccessControl {
  readonly hooks: Required<Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>>;
  readonly deniedPublishes: () => number;
}

export interface AccessDependencies {
  readonly sessions: BrokerSessions;
  readonly revoked: RevokedSerials;
  readonly shares: SharedSubscriptions;
  readonly log: Logger;
  readonly stopping: () => boolean;
}

/** A denied publish is rerouted here and never forwarded: MQTT 3.1.1 cannot refuse it, so it still gets its PUBACK. */
export const DROPPED_TOPIC = '$iotplane/dropped';
const NOT_AUTHORIZED: AuthErrorCode = 5;
const SERVER_UNAVAILABLE: AuthErrorCode = 3;
/** What the platform keeps retained for a device: its desired state and its confirmed readings sequence number. */
const RETAINED = /^devices\/[^/+#]+\/(desired|readings\/committed)$/;
/** Mosquitto's `max_packet_size` as the platform configures it: a larger message disconnects its sender on either broker. */
export const MAX_PUBLISH_BYTES = DEFAULT_MOSQUITTO_LIMITS.maxPacketBytes;

export function createAccessControl(deps: AccessDependencies): AccessControl {
  const { sessions, revoked, shares, log } = deps;
  let denied = 0;

  const refuse = (client: Client, reason: string, code: AuthErrorCode, serialNumber?: string): AuthenticateError => {
    log.warn({ clientId: client.id, remoteAddress: remoteAddress(client), serialNumber, reason }, 'mqtt connection refused');
    return Object.assign(new Error(reason), { returnCode: code });
  };

  const drop = (client: Client, packet: PublishPacket, reason: string): void => {
    denied += 1;
    log.warn({ clientId: client.id, topic: packet.topic, reason }, 'mqtt publish dropped');
    packet.topic = DROPPED_TOPIC;
    packet.payload = Buffer.alloc(0);
    packet.retain = false;
  };

  return {
    deniedPublishes: () => denied,
    hooks: {
      authenticate(client, _username, _password, done) {
        const result = identify(client.conn);
        if (!result.ok) return done(refuse(client, result.reason, NOT_AUTHORIZED), false);
        const { identity } = result;
        if (deps.stopping()) return done(refuse(client, 'broker stopping', SERVER_UNAVAILABLE), false);
        if (revoked.has(identity.serialNumber)) return done(refuse(client, 'certificate revoked', NOT_AUTHORIZED, identity.serialNumber), false);
        if (client.id !== identity.clientId) {
          return done(refuse(client, `client id must be the certificate identity ${identity.clientId}`, NOT_AUTHORIZED, identity.serialNumber), false);
        }
        // The same identity reconnecting replaces its old session, as MQTT requires.
        for (const previous of sessions.withClientId(identity.clientId)) sessions.noteEnd(previous, 'replaced by a new session');
        sessions.add(client, identity);
        done(null, true);
      },

      authorizePublish(client, packet, done) {
        // A will left from an earlier broker instance has no session to judge it by.
        if (client === null) return done(new Error('no session'));
        if (packet.payload.length > MAX_PUBLISH_BYTES) {
          log.warn({ clientId: client.id, topic: packet.topic, bytes: packet.payload.length }, 'mqtt publish too large; disconnecting its sender');
          return done(new Error(`a message of ${packet.payload.length} bytes is over the ${MAX_PUBLISH_BYTES}-byte limit`));
        }
        const identity = sessions.identity(client);
        if (identity === undefined) drop(client, packet, 'no authenticated session');
        else if (packet.topic.startsWith('$')) drop(client, packet, 'reserved topic');
        else if (identity.kind === 'internal') {
          if (packet.retain && !RETAINED.test(packet.topic)) packet.retain = false;
        } else if (!devicePublishAllowed(identity.deviceId, packet.topic)) drop(client, packet, 'outside the device topics');
        else packet.retain = false; // only the platform keeps retained messages (…/desired, …/readings/committed)
        done(null);
      },

      authorizeSubscribe(client, subscription, done) {
        const identity = sessions.identity(client);
        const share = parseShare(subscription.topic);
        let allowed: boolean;
        if (identity === undefined) allowed = false;
        else if (identity.kind === 'device') allowed = deviceSubscribeAllowed(identity.deviceId, subscription.topic);
        else allowed = share !== undefined || !subscription.topic.startsWith('$share/');
        if (!allowed) {
          log.warn({ clientId: client.id, filter: subscription.topic }, 'mqtt subscription refused');
          return done(null, null); // SUBACK 128 for this filter; the session stays up
        }
        if (share !== undefined) shares.join(client, share, subscription.qos);
        done(null, subscription);
      },

      authorizeForward(client, packet): AedesPublishPacket | null {
        if (packet.topic === DROPPED_TOPIC) return null;
        // Belt and braces: a device only ever receives messages under its own prefix.
        const identity = sessions.identity(client);
        if (identity?.kind === 'device' && deviceIdOf(packet.topic) !== identity.deviceId) return null;
        return packet;
      },
    },
  };
}

function remoteAddress(client: Client): string | undefined {
  return 'remoteAddress' in client.conn ? client.conn.remoteAddress : undefined;
}
