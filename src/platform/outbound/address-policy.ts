import { BlockList, isIP } from 'node:net';

/**
 * Which addresses the platform may send to on a customer's behalf (webhooks,
 * Slack): public unicast only, unless the operator allows a network
 * explicitly (NOTIFY_ALLOWED_NETWORKS). Refused: loopback, RFC 1918 private,
 * CGNAT, link-local (cloud metadata at 169.254.169.254), "this network",
 * multicast, reserved, documentation and benchmarking ranges; for IPv6 the
 * same kinds plus ULA, and IPv4 addresses embedded in IPv6 (mapped, NAT64,
 * 6to4) are judged as the IPv4 address they carry.
 */
export interface AddressPolicy {
  /** Why the address may not be reached, or undefined when it may. */
  refusal(address: string): string | undefined;
  /** Plain http:// URLs are accepted (else https:// only). */
  readonly allowHttp: boolean;
}

type Family = 'ipv4' | 'ipv6';
type Range = readonly [network: string, prefix: number, reason: string];

const REFUSED_V4: readonly Range[] = [
  ['0.0.0.0', 8, '"this network" (0.0.0.0/8)'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'shared address space (CGNAT, 100.64.0.0/10)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (169.254.0.0/16, cloud metadata)'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments (192.0.0.0/24)'],
  ['192.0.2.0', 24, 'documentation (192.0.2.0/24)'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking (198.18.0.0/15)'],
  ['198.51.100.0', 24, 'documentation (198.51.100.0/24)'],
  ['203.0.113.0', 24, 'documentation (203.0.113.0/24)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved or broadcast (240.0.0.0/4)'],
];
// More specific ranges first, so the reason names the narrowest one.
const REFUSED_V6: readonly Range[] = [
  ['::', 128, 'unspecified (::)'],
  ['::1', 128, 'loopback (::1)'],
  ['::', 96, 'IPv4-compatible (::/96, deprecated)'],
  ['100::', 64, 'discard-only (100::/64)'],
  ['2001::', 32, 'Teredo (2001::/32)'],
  ['2001:db8::', 32, 'documentation (2001:db8::/32)'],
  ['fc00::', 7, 'unique local (fc00::/7)'],
  ['fe80::', 10, 'link-local (fe80::/10)'],
  ['fec0::', 10, 'site-local (fec0::/10, deprecated)'],
  ['ff00::', 8, 'multicast (ff00::/8)'],
];

function blockList(network: string, prefix: number, family: Family): BlockList {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return list;
}

const refusedV4 = REFUSED_V4.map(([network, prefix, reason]) => ({ list: blockList(network, prefix, 'ipv4'), reason }));
const refusedV6 = REFUSED_V6.map(([network, prefix, reason]) => ({ list: blockList(network, prefix, 'ipv6'), reason }));

/** The 16 bytes of an IPv6 address (zone id removed), or undefined. */
function ipv6Bytes(address: string): number[] | undefined {
  let text = address;
  const tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail.push(...(dotted[2] as string).split('.').map(Number));
    text = `${dotted[1] as string}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const words = rest === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  if (words.length !== 8 || words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffff)) return undefined;
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** The IPv4 address an IPv6 one carries: mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) or 6to4 (2002::/16). */
export function embeddedIpv4(address: string): string | undefined {
  const b = ipv6Bytes(address);
  if (!b) return undefined;
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const quad = (at: number) => b.slice(at, at + 4).join('.');
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return quad(12);
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return quad(12);
  if (b[0] === 0x20 && b[1] === 0x02) return quad(2);
  return undefined;
}

/** Parses `a.b.c.d/n` or `x::/n` (validated by the config loader). */
export function parseCidr(text: string): { network: string; prefix: number; family: Family } | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!match) return undefined;
  const network = match[1] as string;
  const version = isIP(network);
  const prefix = Number(match[2]);
  if (version === 0 || prefix > (version === 4 ? 32 : 128)) return undefined;
  return { network, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

export function createAddressPolicy(options: { allowedNetworks: readonly string[]; allowHttp: boolean }): AddressPolicy {
  const allowed = new BlockList();
  for (const text of options.allowedNetworks) {
    const cidr = parseCidr(text);
    if (!cidr) throw new Error(`not a CIDR network: ${text}`);
    allowed.addSubnet(cidr.network, cidr.prefix, cidr.family);
  }
  const refusal = (raw: string): string | undefined => {
    const address = raw.replace(/%.*$/, '');
    const version = isIP(address);
    if (version === 0) return `${raw} is not an IP address`;
    const family: Family = version === 4 ? 'ipv4' : 'ipv6';
    if (allowed.check(address, family)) return undefined;
    if (version === 6) {
      const inner = embeddedIpv4(address);
      if (inner !== undefined) {
        const why = refusal(inner);
        return why === undefined ? undefined : `${raw} carries ${inner}: ${why.replace(`${inner} is `, '')}`;
      }
    }
    const hit = (version === 4 ? refusedV4 : refusedV6).find((r) => r.list.check(address, family));
    return hit ? `${raw} is ${hit.reason}` : undefined;
  };
  return { refusal, allowHttp: options.allowHttp };
}
