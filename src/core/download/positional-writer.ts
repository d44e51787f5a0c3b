import type { promises as fs } from 'node:fs';
import { writeFully } from './part-file';

/** One writev for all queued chunks (no copy into one buffer); a short write finishes plainly. */
async function writeAllAt(handle: fs.FileHandle, chunks: Buffer[], length: number, position: number): Promise<void> {
  if (chunks.length === 1) return writeFully(handle, chunks[0], position);
  const { bytesWritten } = await handle.writev(chunks, position);
  if (bytesWritten < length) await writeFully(handle, Buffer.concat(chunks).subarray(bytesWritten), position + bytesWritten);
}

/**
 * Writes a stream of chunks at consecutive positions with one write in flight while the next
 * chunks gather (at most `maxQueuedBytes`), so reading the network and writing the disk overlap.
 * `onWritten` reports only bytes whose write completed: that is what the record may count.
 * `guard`, when given, is asked before each batch and stops the writer when it throws (the
 * transfer's claim was lost to another window or process).
 */
export class PositionalWriter {
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private inflight?: Promise<void>;
  private failure: unknown;
  private written: number;

  constructor(
    private readonly handle: fs.FileHandle,
    private position: number,
    private readonly onWritten: (bytes: number) => void,
    private readonly maxQueuedBytes = 1024 * 1024,
    /**
     * Asked before each chunk is accepted, with the bytes accepted but not yet written; a promise
     * holds the chunk back until it settles (e.g. a save catching up).
     */
    private readonly gate?: (pending: number) => Promise<void> | undefined,
    private readonly guard?: () => Promise<void>,
  ) {
    this.written = position;
  }

  /** Position after everything accepted so far (written or queued). */
  get acceptedEnd(): number {
    return this.position + this.queuedBytes;
  }

  /** Accepts a chunk; waits only when too much is queued (backpressure to the network). */
  async write(chunk: Buffer): Promise<void> {
    const wait = this.gate?.(this.acceptedEnd - this.written);
    if (wait) await wait;
    this.check();
    this.queued.push(chunk);
    this.queuedBytes += chunk.length;
    if (!this.inflight) this.startWrite();
    while (this.queuedBytes >= this.maxQueuedBytes && this.inflight) {
      await this.inflight;
      this.check();
    }
  }

  /** Waits until everything accepted is on disk (or throws the write error). */
  async flush(): Promise<void> {
    while (this.inflight) await this.inflight;
    this.check();
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private startWrite(): void {
    const chunks = this.queued;
    const length = this.queuedBytes;
    const at = this.position;
    this.position += length;
    this.queued = [];
    this.queuedBytes = 0;
    const write = this.guard ? this.guard().then(() => writeAllAt(this.handle, chunks, length, at)) : writeAllAt(this.handle, chunks, length, at);
    this.inflight = write.then(
      () => {
        this.written = at + length;
        this.inflight = undefined;
        this.onWritten(length);
        if (this.queued.length > 0 && this.failure === undefined) this.startWrite();
      },
      (error: unknown) => {
        this.failure = error;
        this.inflight = undefined;
      },
    );
  }

  get writtenEnd(): number {
    return this.written;
  }
}
