import { renderMosquittoAcl } from '../src/platform/mqtt/mosquitto-acl';
import { renderMosquittoConf, type MosquittoPaths } from '../src/platform/mqtt/mosquitto-config';
import { DEVICE_PUBLISHES, DEVICE_SUBSCRIBES } from '../src/platform/mqtt/topics';

const paths: MosquittoPaths = {
  cafile: '/etc/iotplane/ca.crt',
  certfile: '/etc/iotplane/server.crt',
  keyfile: '/etc/iotplane/server.key',
  crlfile: '/etc/iotplane/crl.pem',
  aclFile: '/etc/iotplane/acl',
  persistenceLocation: '/var/lib/iotplane/',
  pidFile: '/var/lib/iotplane/mosquitto.pid',
};

/** Setting lines only, as `name value`. */
function settings(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

describe('Mosquitto ACL', () => {
  it('lets devices write and read exactly the leaves of the topic contract, under their own CN', () => {
    const acl = settings(renderMosquittoAcl([]));
    expect(acl).toEqual([
      ...DEVICE_PUBLISHES.map((leaf) => `pattern write devices/%u/${leaf}`),
      'pattern write devices/%u/commands/+/ack',
      ...DEVICE_SUBSCRIBES.map((leaf) => `pattern read devices/%u/${leaf}`),
    ]);
  });

  it('gives each internal identity its own user block, once', () => {
    const acl = settings(renderMosquittoAcl(['ingest-1', 'ingest-2', 'ingest-1']));
    const users = acl.filter((line) => line.startsWith('user '));
    expect(users).toEqual(['user iotplane:ingest-1', 'user iotplane:ingest-2']);
    const afterFirst = acl.slice(acl.indexOf('user iotplane:ingest-1') + 1, acl.indexOf('user iotplane:ingest-2'));
    expect(afterFirst).toEqual(['topic readwrite #', 'topic read $share/#']);
  });

  it('refuses a name that would smuggle rules into the file', () => {
    expect(() => renderMosquittoAcl(['ingest\ntopic readwrite #'])).toThrow(/not a valid internal identity name/);
    expect(() => renderMosquittoAcl(['Ingest'])).toThrow(/not a valid internal identity name/);
  });
});

describe('mosquitto.conf', () => {
  it('writes the security, persistence and queue settings, each after a comment saying why', () => {
    const text = renderMosquittoConf({ port: 8883, paths });
    expect(settings(text)).toEqual([
      'per_listener_settings false',
      'allow_anonymous false',
      'acl_file /etc/iotplane/acl',
      'persistence true',
      'persistence_location /var/lib/iotplane/',
      'autosave_interval 60',
      'persistent_client_expiration 7d',
      'max_inflight_messages 1000',
      'max_queued_messages 100000',
      'max_queued_bytes 268435456',
      'max_packet_size 262144',
      'pid_file /var/lib/iotplane/mosquitto.pid',
      'listener 8883',
      'cafile /etc/iotplane/ca.crt',
      'certfile /etc/iotplane/server.crt',
      'keyfile /etc/iotplane/server.key',
      'crlfile /etc/iotplane/crl.pem',
      'require_certificate true',
      'use_identity_as_username true',
      'use_username_as_clientid true',
      'tls_version tlsv1.2',
    ]);
    const lines = text.split('\n');
    for (const setting of settings(text)) expect(lines[lines.indexOf(setting) - 1]).toMatch(/^# \S/);
  });

  it('binds, switches account and takes other limits when asked', () => {
    const text = renderMosquittoConf({ port: 18883, bind: '127.0.0.1', paths, runAsUser: 'mosquitto', limits: { maxQueuedMessages: 5000 } });
    expect(settings(text)).toEqual(expect.arrayContaining(['user mosquitto', 'listener 18883 127.0.0.1', 'max_queued_messages 5000']));
  });

  it('refuses values Mosquitto would misread', () => {
    expect(() => renderMosquittoConf({ port: 8883, paths: { ...paths, crlfile: '/etc/my certs/crl.pem' } })).toThrow(/crlfile/);
    expect(() => renderMosquittoConf({ port: 0, paths })).toThrow(/port/);
    expect(() => renderMosquittoConf({ port: 8883, paths, runAsUser: 'mosquitto\nallow_anonymous true' })).toThrow(/user/);
  });
});
