import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { AddressPolicy } from './address-policy';

/** Resolves a host name to every address it has; injectable so that tests can make a name change its answer. */
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** A refusal of the URL or of an address it resolves to: the request was never sent. */
export class OutboundRefusedError extends Error {
  readonly code = 'ADDRESS_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

export interface OutboundOptions {
  readonly policy: AddressPolicy;
  readonly timeoutMs: number;
  readonly resolve?: Resolver;
}

export interface OutboundResponse {
  readonly statusCode: number;
  /** The first KB of the response body, for the delivery log. */
  readonly body: string;
  /** A redirect's target, reported (never followed). */
  readonly location: string | undefined;
}

const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** The URL's own rules (scheme, no credentials): a reason, or undefined. */
function urlRefusal(url: URL, policy: AddressPolicy): string | undefined {
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    return policy.allowHttp ? 'must use https:// or http://' : 'must use https://';
  }
  if (url.username !== '' || url.password !== '') return 'must not carry credentials (user:password@)';
  if (url.hash !== '') return 'must not have a fragment (#…)';
  return undefined;
}

async function resolveChecked(hostname: string, policy: AddressPolicy, resolve: Resolver): Promise<readonly LookupAddress[]> {
  if (isIP(hostname) !== 0) {
    const why = policy.refusal(hostname);
    if (why) throw new OutboundRefusedError(`refused address: ${why}`);
    return [{ address: hostname, family: isIP(hostname) }];
  }
  let addresses: readonly LookupAddress[];
  try {
    addresses = await resolve(hostname);
  } catch (error) {
    throw new OutboundRefusedError(`${hostname} does not resolve (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (addresses.length === 0) throw new OutboundRefusedError(`${hostname} does not resolve`);
  // Every address must pass: a name answering one public and one private address is refused whole.
  for (const { address } of addresses) {
    const why = policy.refusal(address);
    if (why) throw new OutboundRefusedError(`${hostname} resolves to a refused address: ${why}`);
  }
  return addresses;
}

/**
 * Checks a URL the way a send will: scheme, then every address its host
 * resolves to now. For creation and update of a channel (422 with the
 * reason); every send checks again at connect time.
 */
export async function checkOutboundUrl(raw: string, policy: AddressPolicy, resolve: Resolver = systemResolver): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a valid URL';
  }
  const why = urlRefusal(url, policy);
  if (why) return why;
  const host = hostOf(url);
  if (isIP(host) !== 0) return policy.refusal(host);
  let addresses: readonly LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch {
    // A name that does not resolve now is accepted: DNS may be down, the receiver not yet set up. Every send checks again.
    return undefined;
  }
  const refused = addresses.map((a) => policy.refusal(a.address)).find((why) => why !== undefined);
  return refused === undefined ? undefined : `${host} resolves to a refused address: ${refused}`;
}

/**
 * The socket's own lookup: the addresses are checked when the connection is
 * made, so a name that resolved to a public address at creation and to a
 * private one now (DNS rebinding) is refused before any byte is sent.
 */
function guardedLookup(policy: AddressPolicy, resolve: Resolver): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    resolveChecked(hostname, policy, resolve).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        const first = wanted[0];
        if (!first) {
          callback(new OutboundRefusedError(`${hostname} has no IPv${String(options.family)} address`), '', 0);
        } else if (options.all) {
          callback(null, [...wanted]);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: Error) => callback(error, '', 0),
    );
  };
}

/**
 * POSTs a body to a customer's URL: scheme and addresses checked (an IP
 * literal here, a name at connect time), redirects never followed (the 3xx
 * is answered to the caller), the whole exchange bounded by `timeoutMs`,
 * and a fresh connection each time (no pooled socket checked under an
 * older resolution).
 */
export async function postOutbound(raw: string, body: string, headers: Readonly<Record<string, string>>, options: OutboundOptions): Promise<OutboundResponse> {
  const url = new URL(raw);
  const why = urlRefusal(url, options.policy);
  if (why) throw new OutboundRefusedError(`the URL ${why}`);
  const resolve = options.resolve ?? systemResolver;
  const host = hostOf(url);
  // Node does not call `lookup` for an IP literal: check it here.
  if (isIP(host) !== 0) await resolveChecked(host, options.policy, resolve);
  const signal = AbortSignal.timeout(options.timeoutMs);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<OutboundResponse>((resolvePromise, reject) => {
    const request = client.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
        agent: false,
        lookup: guardedLookup(options.policy, resolve),
        signal,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < 1024) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('end', () =>
          resolvePromise({
            statusCode: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8').slice(0, 1024),
            location: response.headers.location,
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', (error: Error) => {
      if (signal.aborted) reject(new Error(`no answer within ${options.timeoutMs} ms`));
      else reject(error);
    });
    request.end(body);
  });
}
