import { constants as fsConstants, promises as fs } from 'node:fs';
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { fromFileSystemError } from '../errors';
import type { PartFileIdentity } from '../state/record';

/** Data lives in `<target>.part` until it is complete, verified and synced. */
export function partPathFor(target: string): string {
  return `${target}.part`;
}

export async function fileSize(filePath: string): Promise<number> {
  try {
    return (await fs.stat(filePath)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw fromFileSystemError(error, `read ${filePath}`);
  }
}

/** True when both names are one file: a hard link made earlier (a symlink never counts). */
export async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [first, second] = await Promise.all([fs.lstat(a), fs.lstat(b)]);
    return first.dev === second.dev && first.ino === second.ino;
  } catch {
    return false;
  }
}

export async function exists(filePath: string): Promise<boolean> {
  try {
    await fs.lstat(filePath);
    return true;
  } catch {
    return false;
  }
}

export function identityOf(generation: number, stats: { ino: number; birthtimeMs: number }): PartFileIdentity {
  return { generation, ino: stats.ino, birthtimeMs: stats.birthtimeMs };
}

export function sameIdentity(a: PartFileIdentity | undefined, b: PartFileIdentity | undefined): boolean {
  return a !== undefined && b !== undefined && a.generation === b.generation && a.ino === b.ino && a.birthtimeMs === b.birthtimeMs;
}

/** Size and identity (for `generation`) of the part file, or undefined when there is none. */
export async function statPartFile(partPath: string, generation: number): Promise<{ size: number; identity: PartFileIdentity } | undefined> {
  try {
    const stats = await fs.stat(partPath);
    return { size: stats.size, identity: identityOf(generation, stats) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromFileSystemError(error, `read ${partPath}`);
  }
}

/**
 * Replaces the part file with a new, empty one for `generation`. The new file is created before
 * the old one goes, so the two never share an inode number.
 */
export async function createPartFile(partPath: string, generation: number): Promise<PartFileIdentity> {
  const fresh = `${partPath}.new`;
  try {
    await fs.mkdir(path.dirname(partPath), { recursive: true });
    await fs.rm(fresh, { force: true });
    const handle = await fs.open(fresh, 'wx');
    const stats = await handle.stat();
    await handle.close();
    await fs.rename(fresh, partPath);
    return identityOf(generation, stats);
  } catch (error) {
    throw fromFileSystemError(error, `create ${partPath}`);
  }
}

/**
 * Opens `filePath` without following a symbolic link in its last component: a link planted
 * where our own file belongs (`name.part → ~/.bashrc`) fails with ERR_UNSAFE_PATH instead of
 * being truncated and written through. Where the platform has no O_NOFOLLOW (Windows), an
 * lstat check stands in.
 */
export async function openNoFollow(filePath: string, flags: number, action: string): Promise<fs.FileHandle> {
  const noFollow = fsConstants.O_NOFOLLOW ?? 0;
  try {
    if (noFollow === 0) {
      const stats = await fs.lstat(filePath).catch(() => undefined);
      if (stats?.isSymbolicLink()) throw Object.assign(new Error('symbolic link'), { code: 'ELOOP' });
    }
    return await fs.open(filePath, flags | noFollow, 0o666);
  } catch (error) {
    throw fromFileSystemError(error, `${action} ${filePath}`);
  }
}

/**
 * Claims the name `target` for one download by creating its empty part file exclusively
 * (O_EXCL: atomic, and never through a symlink). False when a part file is already there.
 */
export async function reservePartFile(target: string): Promise<boolean> {
  try {
    await (await fs.open(partPathFor(target), 'wx')).close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Deletes a download's partial data: its part file and a replacement that a restart left half-made. */
export async function deletePartialData(target: string): Promise<void> {
  const partPath = partPathFor(target);
  try {
    await fs.rm(partPath, { force: true });
    await fs.rm(`${partPath}.new`, { force: true });
  } catch (error) {
    throw fromFileSystemError(error, `delete ${partPath}`);
  }
}

/**
 * Opens the part file for writing at explicit offsets, creating it if needed and cutting it to
 * `truncateTo` so that its size never claims bytes the record does not vouch for. Never through
 * a symbolic link.
 */
export async function openPartFile(partPath: string, truncateTo: number): Promise<fs.FileHandle> {
  try {
    await fs.mkdir(path.dirname(partPath), { recursive: true });
  } catch (error) {
    throw fromFileSystemError(error, `create the folder of ${partPath}`);
  }
  // O_RDWR without O_APPEND: appends would ignore write positions on Linux.
  const handle = await openNoFollow(partPath, fsConstants.O_RDWR | fsConstants.O_CREAT, 'open');
  try {
    const { size } = await handle.stat();
    if (size > truncateTo) await handle.truncate(truncateTo);
    return handle;
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw fromFileSystemError(error, `open ${partPath}`);
  }
}

/** Writes all of `data` at `position` (a short write is continued, never dropped). */
export async function writeFully(handle: fs.FileHandle, data: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written, position + written);
    written += bytesWritten;
  }
}

export async function readAt(handle: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let read = 0;
  while (read < length) {
    const { bytesRead } = await handle.read(buffer, read, length - read, position + read);
    if (bytesRead === 0) break;
    read += bytesRead;
  }
  return buffer.subarray(0, read);
}

/**
 * Hashes in a worker thread: about a CPU-second per GiB that would otherwise run on the caller's
 * event loop (in the editor, the extension host that every extension shares). The code is inline
 * so it survives bundling.
 */
const HASH_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
const hash = createHash('sha256');
createReadStream(workerData, { highWaterMark: 1 << 20 })
  .on('data', (chunk) => hash.update(chunk))
  .on('error', (error) => parentPort.postMessage({ error: String(error && error.message || error) }))
  .on('end', () => parentPort.postMessage({ hex: hash.digest('hex') }));
`;

export function sha256File(filePath: string, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const worker = new Worker(HASH_WORKER, { eval: true, workerData: filePath });
    const onAbort = () => void worker.terminate().then(() => reject(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (message: { hex?: string; error?: string }) => {
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      if (message.hex) resolve(message.hex);
      else reject(fromFileSystemError(Object.assign(new Error(message.error), {}), `read ${filePath}`));
    });
    worker.once('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(fromFileSystemError(error, `hash ${filePath}`));
    });
  });
}

/** Best effort: makes a rename durable by syncing the folder that holds it (POSIX only). */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Not supported everywhere (Windows); the data itself was already synced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
