import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TransferError, fromFileSystemError } from '../errors';
import type { UploadFingerprint } from '../state/record';

/** Identity of the local file: absolute path, size and modification time. */
export async function fingerprintFile(file: string): Promise<UploadFingerprint> {
  const absolute = path.resolve(file);
  let stat;
  try {
    stat = await fs.stat(absolute);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new TransferError('ERR_FILE_SYSTEM', `the file to upload is missing: ${absolute}`, { cause: error });
    }
    throw fromFileSystemError(error, `read ${absolute}`);
  }
  if (!stat.isFile()) throw new TransferError('ERR_FILE_SYSTEM', `not a regular file: ${absolute}`);
  return { path: absolute, size: stat.size, mtimeMs: stat.mtimeMs };
}

/**
 * Why `current` is not the file that `saved` describes, or undefined when it is the same. Any
 * difference counts: bytes already on the server may belong to the old content.
 */
export function fingerprintChange(saved: UploadFingerprint, current: UploadFingerprint): string | undefined {
  if (saved.path !== current.path) return `the file is now ${current.path} (was ${saved.path})`;
  if (saved.size !== current.size) return `the file changed: size ${saved.size} → ${current.size} bytes`;
  if (saved.mtimeMs !== current.mtimeMs) {
    return `the file changed: modified ${new Date(current.mtimeMs).toISOString()} (was ${new Date(saved.mtimeMs).toISOString()})`;
  }
  return undefined;
}
