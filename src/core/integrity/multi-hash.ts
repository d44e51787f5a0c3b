import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { fromFileSystemError, throwIfAborted } from '../errors';
import { Crc32c } from './crc32c';
import type { DigestAlgorithm } from './digest';

export type Digests = Partial<Record<DigestAlgorithm, string>>;

/** Several digests over one pass of the bytes. */
export class MultiHash {
  private readonly hashes: Array<[DigestAlgorithm, Hash | Crc32c]>;
  /** Bytes fed so far. */
  length = 0;

  constructor(readonly algorithms: readonly DigestAlgorithm[]) {
    this.hashes = [...new Set(algorithms)].map((algorithm) => [algorithm, algorithm === 'crc32c' ? new Crc32c() : createHash(algorithm)]);
  }

  update(data: Buffer): void {
    for (const [, hash] of this.hashes) hash.update(data);
    this.length += data.length;
  }

  digest(): Digests {
    const out: Digests = {};
    for (const [algorithm, hash] of this.hashes) out[algorithm] = hash instanceof Crc32c ? hash.hex() : hash.digest('hex');
    return out;
  }
}

/**
 * Feeds bytes `[0, end)` of a file into `hash` (all of it when `end` is undefined). Runs on the
 * calling thread: in the editor that is the download worker, never the extension host.
 */
export async function hashFileInto(hash: MultiHash, filePath: string, signal: AbortSignal, end?: number): Promise<void> {
  if (end === 0) return;
  const stream = createReadStream(filePath, { highWaterMark: 1 << 20, end: end === undefined ? undefined : end - 1 });
  try {
    for await (const chunk of stream) {
      throwIfAborted(signal);
      hash.update(chunk as Buffer);
    }
  } catch (error) {
    throw fromFileSystemError(error, `read ${filePath}`);
  } finally {
    stream.destroy();
  }
}

export async function hashFile(filePath: string, algorithms: readonly DigestAlgorithm[], signal: AbortSignal): Promise<Digests> {
  const hash = new MultiHash(algorithms);
  await hashFileInto(hash, filePath, signal);
  return hash.digest();
}
