import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../config';

/**
 * The generated device CA on disk. The key is published before the
 * certificate, each with link(), which never replaces an existing name: the
 * first process to link its key owns the CA, and a certificate on disk
 * always has its key beside it.
 */
export interface DeviceCaPaths {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
}

export interface DeviceCaPems {
  readonly certPem: string;
  readonly keyPem: string;
}

const WAIT_FOR_CREATOR_MS = 5000;
const POLL_MS = 50;

export function deviceCaPaths(dataDir: string): DeviceCaPaths {
  const dir = path.join(dataDir, 'pki');
  return { dir, cert: path.join(dir, 'device-ca.crt'), key: path.join(dir, 'device-ca.key') };
}

/** Both files, or undefined while there is no certificate (none yet, or another process is mid-creation). */
export async function readDeviceCaFiles(paths: DeviceCaPaths): Promise<DeviceCaPems | undefined> {
  // Certificate first: once it exists its key does too, so this order never sees a false "key missing".
  const certPem = await readIfExists(paths.cert);
  if (certPem === undefined) return undefined;
  const keyPem = await readIfExists(paths.key);
  if (keyPem === undefined) {
    throw new ConfigError(paths.key, `is missing but ${paths.cert} exists: restore the key, or remove both to generate a new CA`);
  }
  return { certPem, keyPem };
}

/** Publishes the pair unless another process already published its own; then this one quietly yields. */
export async function createDeviceCaFiles(paths: DeviceCaPaths, pems: DeviceCaPems): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await chmod(paths.dir, 0o700);
  const stem = path.join(paths.dir, `.device-ca.${process.pid}.${randomBytes(6).toString('hex')}`);
  const tmpKey = `${stem}.key.tmp`;
  const tmpCert = `${stem}.crt.tmp`;
  try {
    await writeDurably(tmpKey, pems.keyPem, 0o600);
    await writeDurably(tmpCert, pems.certPem, 0o644);
    try {
      await link(tmpKey, paths.key);
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return;
      throw error;
    }
    await link(tmpCert, paths.cert);
    await syncDirectory(paths.dir);
  } finally {
    await Promise.all([removeIfExists(tmpKey), removeIfExists(tmpCert)]);
  }
}

/** Waits out a concurrent creator; a key that never gets its certificate is left from an interrupted start. */
export async function waitForDeviceCaFiles(paths: DeviceCaPaths): Promise<DeviceCaPems> {
  const deadline = Date.now() + WAIT_FOR_CREATOR_MS;
  for (;;) {
    const pems = await readDeviceCaFiles(paths);
    if (pems) return pems;
    if (Date.now() >= deadline) {
      throw new ConfigError(paths.cert, `is missing while ${paths.key} exists, left by an interrupted first start: remove ${paths.key} to generate a new CA`);
    }
    await sleep(POLL_MS);
  }
}

async function writeDurably(file: string, content: string, mode: number): Promise<void> {
  const handle = await open(file, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.chmod(mode); // the process umask may have narrowed the mode open() was given
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

async function removeIfExists(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}

/** Not `instanceof Error`: errors from Node internals can come from another realm (as under jest). */
function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}
