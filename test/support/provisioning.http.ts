import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Response } from 'supertest';
import type { TestApi, TestOrg } from './test-api';

/** Real openssl, the way devices make their keys and requests. */
export const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

export const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

/** Runs openssl in a scratch folder; `files` are written there first, and the named outputs read back. */
export function openssl(args: readonly string[], files: Readonly<Record<string, string>> = {}, outputs: readonly string[] = []): { stdout: string; files: string[] } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iotplane-openssl-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stdout}${result.stderr}`);
    return { stdout: result.stdout, files: outputs.map((name) => readFileSync(path.join(dir, name), 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A PEM CSR from a fresh key; `/CN=x` and no extensions unless told. */
export function deviceCsr(options: { key?: readonly string[]; subject?: string; extra?: readonly string[] } = {}): string {
  return openssl(['req', '-new', ...(options.key ?? P256), '-nodes', '-keyout', 'device.key', '-subj', options.subject ?? '/CN=x', ...(options.extra ?? [])])
    .stdout;
}

/** `openssl x509 -text` of a PEM certificate. */
export function certificateText(certificatePem: string): string {
  return openssl(['x509', '-in', 'cert.pem', '-noout', '-text'], { 'cert.pem': certificatePem }).stdout;
}

/** `openssl verify` of a client certificate against the CA bundle it came with. */
export function verifyClientCertificate(certificatePem: string, caPem: string): string {
  return openssl(['verify', '-CAfile', 'ca.pem', '-purpose', 'sslclient', 'cert.pem'], { 'ca.pem': caPem, 'cert.pem': certificatePem }).stdout;
}

export interface IssuedToken {
  token: string;
  deviceId: string;
  deviceName: string;
  provisionEndpoint: string;
  expiresAt: string;
}

export function tokenId(token: string): string {
  return token.split('.')[0] ?? '';
}

export async function issueToken(api: TestApi, org: TestOrg, body: Record<string, unknown> = { deviceName: 'gateway' }): Promise<IssuedToken> {
  const res = await api.http().post('/api/v1/devices/registration/tokens').set('Authorization', org.auth).send(body);
  if (res.status !== 201) throw new Error(`creating a registration token answered ${res.status}: ${res.text}`);
  return res.body as IssuedToken;
}

export function provision(api: TestApi, token: string, csr = deviceCsr()): Promise<Response> {
  return api.http().post('/api/v1/devices/provision').send({ token, csr }).then((res) => res);
}

/** A new device of `org`, enrolled: its id, its certificate's serial and the whole provisioning answer. */
export async function provisionNewDevice(api: TestApi, org: TestOrg, body?: Record<string, unknown>): Promise<{ deviceId: string; serialNumber: string; body: Record<string, unknown> }> {
  const issued = await issueToken(api, org, body);
  const res = await provision(api, issued.token);
  if (res.status !== 201) throw new Error(`provisioning answered ${res.status}: ${res.text}`);
  return { deviceId: issued.deviceId, serialNumber: res.body.serialNumber as string, body: res.body as Record<string, unknown> };
}
