import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fromFileSystemError } from './errors';

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

export async function exists(filePath: string): Promise<boolean> {
  try {
    await fs.lstat(filePath);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens the part file for writing at explicit offsets, creating it if needed and cutting it to
 * `truncateTo` so that its size never claims bytes the record does not vouch for.
 */
export async function openPartFile(partPath: string, truncateTo: number): Promise<fs.FileHandle> {
  try {
    await fs.mkdir(path.dirname(partPath), { recursive: true });
    const handle = await fs.open(partPath, 'a+').then(async (probe) => {
      // 'a+' creates without truncating; reopen 'r+' because appends ignore write positions on Linux.
      await probe.close();
      return fs.open(partPath, 'r+');
    });
    const { size } = await handle.stat();
    if (size > truncateTo) await handle.truncate(truncateTo);
    return handle;
  } catch (error) {
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

export async function sha256File(filePath: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath, { highWaterMark: 1 << 20, signal })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
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
