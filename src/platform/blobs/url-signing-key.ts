import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The HMAC key of the API's own download URLs: the configured one
 * (EXPORT_SIGNING_KEY; needed when API processes do not share a data
 * folder), else 32 random bytes generated once and kept in
 * `<dataDir>/keys/download-url.key`. Published with link(), which never
 * replaces an existing file, so processes starting together agree on one key.
 */
export async function loadOrCreateUrlSigningKey(dataDir: string, configured: string | undefined): Promise<Buffer> {
  if (configured !== undefined) return Buffer.from(configured, 'utf8');
  const dir = path.join(dataDir, 'keys');
  const file = path.join(dir, 'download-url.key');
  const existing = await readKey(file);
  if (existing) return existing;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(dir, `.download-url.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temp, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(temp, { force: true });
  }
  const key = await readKey(file);
  if (!key) throw new Error(`${file} is empty`);
  return key;
}

async function readKey(file: string): Promise<Buffer | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return text.length > 0 ? Buffer.from(text, 'base64url') : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
