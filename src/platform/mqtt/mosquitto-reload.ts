import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors';

/**
 * Files a running Mosquitto reads, and how it is told to read them again.
 * A file is replaced by rename, never rewritten in place: a broker reloading
 * at that instant reads the old file or the new one, never half of one (a
 * CRL it cannot parse would refuse every device).
 */
export async function replaceFile(file: string, content: string, mode: number): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.chmod(mode); // the umask may have narrowed the mode open() was given
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temporary, file);
}

/**
 * SIGHUP to the pid in Mosquitto's `pid_file`: it re-reads the ACL, the
 * certificates and the CRL. New connections are checked against the new
 * CRL; live sessions are not (docs/brokers.md).
 */
export function reloadByPidFile(pidFile: string): () => Promise<void> {
  return async () => {
    let text: string;
    try {
      text = await readFile(pidFile, 'utf8');
    } catch (error) {
      throw unavailable(`cannot read the broker pid file ${pidFile}: ${reason(error)}`);
    }
    const pid = Number(text.trim());
    if (!Number.isInteger(pid) || pid <= 1) throw unavailable(`${pidFile} does not hold a process id`);
    try {
      process.kill(pid, 'SIGHUP');
    } catch (error) {
      throw unavailable(`cannot signal broker pid ${pid} from ${pidFile}: ${reason(error)}`);
    }
  };
}

function unavailable(message: string): AppError {
  return new AppError('SERVICE_UNAVAILABLE', message);
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
