import type { LookupAddress } from 'node:dns';
import { createAddressPolicy, embeddedIpv4 } from '../src/platform/outbound/address-policy';
import { checkOutboundUrl, OutboundRefusedError, postOutbound, type Resolver } from '../src/platform/outbound/outbound-http';
import { judgeResponse } from '../src/workers/notification-transport';
import { signWebhook, verifyWebhook } from '../src/workers/webhook-signature';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver';

const strict = createAddressPolicy({ allowedNetworks: [], allowHttp: false });
const loopbackAllowed = createAddressPolicy({ allowedNetworks: ['127.0.0.0/8'], allowHttp: true });
const httpOnly = createAddressPolicy({ allowedNetworks: [], allowHttp: true });

describe('the address policy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private (RFC 1918)'],
    ['172.16.5.4', 'private (RFC 1918)'],
    ['172.31.255.255', 'private (RFC 1918)'],
    ['192.168.1.1', 'private (RFC 1918)'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.254', 'CGNAT'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'this network'],
    ['0.1.2.3', 'this network'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fd12:3456::1', 'unique local'],
    ['fc00::1', 'unique local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'carries 127.0.0.1: loopback'],
    ['::ffff:a9fe:a9fe', 'carries 169.254.169.254: link-local'],
    ['::ffff:10.0.0.1', 'carries 10.0.0.1: private'],
    ['64:ff9b::a00:1', 'carries 10.0.0.1: private'],
    ['2002:c0a8:101::1', 'carries 192.168.1.1: private'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(strict.refusal(address)).toContain(reason);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])('lets the public address %s through', (address) => {
    expect(strict.refusal(address)).toBeUndefined();
  });

  it('lets an allowed network through, also as IPv4-mapped IPv6, and nothing else', () => {
    expect(loopbackAllowed.refusal('127.0.0.1')).toBeUndefined();
    expect(loopbackAllowed.refusal('::ffff:127.0.0.1')).toBeUndefined();
    expect(loopbackAllowed.refusal('::1')).toContain('loopback');
    expect(loopbackAllowed.refusal('10.0.0.1')).toContain('private');
    expect(loopbackAllowed.refusal('169.254.169.254')).toContain('link-local');
  });

  it('finds the IPv4 address inside mapped, NAT64 and 6to4 addresses', () => {
    expect(embeddedIpv4('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(embeddedIpv4('::ffff:102:304')).toBe('1.2.3.4');
    expect(embeddedIpv4('64:ff9b::102:304')).toBe('1.2.3.4');
    expect(embeddedIpv4('2002:102:304::')).toBe('1.2.3.4');
    expect(embeddedIpv4('2606:4700::1')).toBeUndefined();
  });
});

/** A resolver whose answer a test changes: what a DNS rebinding attacker controls. */
function controlledResolver(initial: string): { resolve: Resolver; answer(address: string): void; calls: string[] } {
  let current = initial;
  const calls: string[] = [];
  return {
    calls,
    answer(address) {
      current = address;
    },
    async resolve(hostname): Promise<readonly LookupAddress[]> {
      calls.push(hostname);
      return [{ address: current, family: current.includes(':') ? 6 : 4 }];
    },
  };
}

describe('checking a channel URL', () => {
  it.each([
    ['http://hooks.example.com/x', strict, 'must use https://'],
    ['ftp://hooks.example.com/x', httpOnly, 'must use https:// or http://'],
    ['https://user:secret@hooks.example.com/x', strict, 'credentials'],
    ['https://127.0.0.1/x', strict, 'loopback'],
    ['https://[::1]/x', strict, 'loopback'],
    ['https://169.254.169.254/latest/meta-data', strict, 'link-local'],
    ['https://[::ffff:192.168.0.1]/x', strict, 'private'],
    ['https://localhost:8443/x', strict, 'localhost resolves to a refused address: 127.0.0.1 is loopback'],
    ['not a url', strict, 'not a valid URL'],
  ])('refuses %s', async (url, policy, reason) => {
    expect(await checkOutboundUrl(url, policy)).toContain(reason);
  });

  it('refuses a name that resolves to a private address, and accepts one that resolves to public addresses', async () => {
    const dns = controlledResolver('10.0.0.5');
    expect(await checkOutboundUrl('https://hooks.customer.test/x', strict, dns.resolve)).toContain('10.0.0.5 is private');
    dns.answer('93.184.215.14');
    expect(await checkOutboundUrl('https://hooks.customer.test/x', strict, dns.resolve)).toBeUndefined();
    expect(dns.calls).toEqual(['hooks.customer.test', 'hooks.customer.test']);
  });

  it('accepts a name that does not resolve now (every send checks again)', async () => {
    expect(await checkOutboundUrl('https://hooks.iotplane.invalid/x', strict)).toBeUndefined();
  });

  it('accepts loopback http only when the operator allows both', async () => {
    expect(await checkOutboundUrl('http://127.0.0.1:9/x', loopbackAllowed)).toBeUndefined();
    expect(await checkOutboundUrl('http://127.0.0.1:9/x', httpOnly)).toContain('loopback');
  });
});

describe('sending to a URL', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  const post = (url: string, options: Parameters<typeof postOutbound>[3]) => postOutbound(url, '{"hello":1}', { 'Content-Type': 'application/json' }, options);

  it('posts the body to an allowed address', async () => {
    const before = receiver.on('/allowed').length;
    const response = await post(receiver.url('/allowed'), { policy: loopbackAllowed, timeoutMs: 5000 });
    expect(response.statusCode).toBe(200);
    const got = await receiver.waitForRequests(before + 1, '/allowed');
    expect(got[before]).toMatchObject({ method: 'POST', body: '{"hello":1}' });
  });

  it('refuses at connect time when the allowance is gone, for an IP literal and for a name that resolves to it', async () => {
    for (const url of [receiver.url('/gone'), `http://localhost:${receiver.port}/gone`]) {
      await expect(post(url, { policy: httpOnly, timeoutMs: 5000 })).rejects.toThrow(OutboundRefusedError);
      await expect(post(url, { policy: httpOnly, timeoutMs: 5000 })).rejects.toThrow(/127\.0\.0\.1 is loopback/);
    }
    expect(receiver.on('/gone')).toEqual([]);
  });

  it('checks the address it connects to, not the one the name had when the URL was checked (DNS rebinding)', async () => {
    const dns = controlledResolver('127.0.0.1');
    const url = `http://rebind.iotplane.test:${receiver.port}/rebind`;
    expect(await checkOutboundUrl(url, loopbackAllowed, dns.resolve)).toBeUndefined();
    expect((await post(url, { policy: loopbackAllowed, timeoutMs: 5000, resolve: dns.resolve })).statusCode).toBe(200);
    // The name now points elsewhere: the connection is refused before a byte is sent.
    dns.answer('::1');
    await expect(post(url, { policy: loopbackAllowed, timeoutMs: 5000, resolve: dns.resolve })).rejects.toThrow(
      'rebind.iotplane.test resolves to a refused address: ::1 is loopback (::1)',
    );
    expect(receiver.on('/rebind')).toHaveLength(1);
    expect(dns.calls).toEqual(['rebind.iotplane.test', 'rebind.iotplane.test', 'rebind.iotplane.test']);
  });

  it('does not follow a redirect: the 3xx is the answer, a failed attempt worth retrying', async () => {
    receiver.answer((request) =>
      request.path === '/moved' ? { status: 302, headers: { Location: receiver.url('/elsewhere') } } : { status: 200 },
    );
    try {
      const response = await post(receiver.url('/moved'), { policy: loopbackAllowed, timeoutMs: 5000 });
      expect(response.statusCode).toBe(302);
      expect(judgeResponse(response)).toEqual({
        delivered: false,
        permanent: false,
        statusCode: 302,
        error: `HTTP 302: redirect to ${receiver.url('/elsewhere')} not followed`,
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(receiver.on('/elsewhere')).toEqual([]);
    } finally {
      receiver.answer(() => ({ status: 200 }));
    }
  });

  it('gives up on a receiver that does not answer in time', async () => {
    receiver.answer(() => ({ status: 200, delayMs: 2000 }));
    try {
      await expect(post(receiver.url('/slow'), { policy: loopbackAllowed, timeoutMs: 200 })).rejects.toThrow('no answer within 200 ms');
    } finally {
      receiver.answer(() => ({ status: 200 }));
    }
  });
});

describe('judging an answer', () => {
  const answer = (statusCode: number, body = '') => judgeResponse({ statusCode, body, location: undefined });
  it.each([
    [200, true, false],
    [204, true, false],
    [400, false, true],
    [401, false, true],
    [404, false, true],
    [410, false, true],
    [408, false, false],
    [429, false, false],
    [500, false, false],
    [503, false, false],
  ])('%i: delivered %s, permanent %s', (code, delivered, permanent) => {
    expect(answer(code)).toMatchObject({ delivered, permanent, statusCode: code });
  });
});

describe('the webhook signature', () => {
  const secret = 'whsec_test';
  const body = '{"id":"d1","type":"AlertRaised"}';
  const at = new Date('2025-03-01T12:00:00Z');

  it('signs "<t>.<body>" with HMAC-SHA256 and verifies', () => {
    const header = signWebhook(secret, body, at);
    expect(header).toMatch(/^t=1740830400,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(secret, header, body, at)).toBeUndefined();
  });

  it('refuses another body, another secret, a stale or future timestamp and a missing header', () => {
    const header = signWebhook(secret, body, at);
    expect(verifyWebhook(secret, header, `${body} `, at)).toBe('signature mismatch');
    expect(verifyWebhook('whsec_other', header, body, at)).toBe('signature mismatch');
    expect(verifyWebhook(secret, header, body, new Date(at.getTime() + 301_000))).toBe('timestamp outside the tolerance');
    expect(verifyWebhook(secret, header, body, new Date(at.getTime() - 301_000))).toBe('timestamp outside the tolerance');
    expect(verifyWebhook(secret, undefined, body, at)).toBe('no signature header');
    expect(verifyWebhook(secret, header.replace(/t=\d+/, 't=1740830401'), body, at)).toBe('signature mismatch');
  });
});
