import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../platform/config';
import type { JwtSettings } from './jwt-verifier';

/**
 * JWT_SECRET or JWT_PUBLIC_KEY when configured. Otherwise (development) a
 * random HS256 secret kept in `dataDir/jwt-secret` (0600), which
 * `cli admin mint-jwt` uses too.
 */
export async function resolveJwtSettings(config: Config): Promise<JwtSettings> {
  const { secret, publicKey, issuer, audience } = config.jwt;
  const base = { ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) };
  if (publicKey) return { ...base, publicKey };
  if (secret) return { ...base, secret };
  return { ...base, secret: await developmentSecret(config.dataDir) };
}

export async function developmentSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'jwt-secret');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' }).catch((error: { code?: string }) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return (await readFile(file, 'utf8')).trim();
}
