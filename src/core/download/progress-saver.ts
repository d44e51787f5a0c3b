import type { promises as fs } from 'node:fs';
import type { Logger } from '../logger';
import type { Segment } from '../state/record';

export interface ProgressSaverOptions {
  /** The live segments (mutated in place by the byte loop; replaced on a new layout). */
  segments(): Segment[];
  /** Saves the record in the background; what it stores comes from `claimable`. */
  save(): void;
  /** A save at least this often while bytes are unsaved, whether or not more arrive (default 1 s). */
  intervalMs: number;
  /** And after this many unsaved bytes (bounds what a kill costs on a fast link). */
  everyBytes: number;
  logger: Logger;
  tag: string;
  now(): number;
}

function bytesIn(segments: readonly Segment[]): number {
  return segments.reduce((sum, segment) => sum + segment.done, 0);
}

/**
 * When a running download's progress reaches its record, and what the record may claim: only
 * bytes whose write completed and that were then synced (one fdatasync per save), because a
 * sparse part file's size says nothing about which segments hold data. A timer saves, not only
 * the arrival of bytes, so the last burst before a stall is in the record within about a second
 * (ARCHITECTURE.md, "Rules a change must keep").
 */
export class ProgressSaver {
  private durable: { source: Segment[]; snapshot: Segment[] };
  private file?: fs.FileHandle;
  private timer?: NodeJS.Timeout;
  private saving?: Promise<void>;
  private again = false;
  /** Bytes in the newest snapshot, synced or being synced. */
  private snapshotBytes: number;
  private lastSaveAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: ProgressSaverOptions) {
    const live = options.segments();
    this.durable = { source: live, snapshot: live.map((segment) => ({ ...segment })) };
    this.snapshotBytes = bytesIn(live);
  }

  /** The segments a save may store for `live`: the last synced snapshot of that layout. */
  claimable(live: Segment[]): Segment[] {
    return live === this.durable.source ? this.durable.snapshot : live;
  }

  /** A new layout whose progress is already vouched for (a restart, reconciled disk state). */
  adopt(segments: Segment[]): void {
    this.durable = { source: segments, snapshot: segments.map((segment) => ({ ...segment })) };
    this.snapshotBytes = bytesIn(segments);
  }

  /** Bytes the byte loop wrote that no save has claimed yet. */
  get unsaved(): number {
    return bytesIn(this.options.segments()) - bytesIn(this.claimable(this.options.segments()));
  }

  start(): void {
    this.timer ??= setInterval(() => {
      if (this.unsaved !== 0) void this.saveNow();
    }, this.options.intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The part file the byte loop writes into now: what a save syncs. */
  attach(file: fs.FileHandle): void {
    this.file = file;
  }

  /** Syncs and saves what was written, before the caller closes the file. */
  async detach(): Promise<void> {
    await this.saveNow();
    this.file = undefined;
  }

  /** Called after every completed write: saves by volume, and by time while bytes flow. */
  noteWritten(): void {
    const due = this.options.now() - this.lastSaveAt >= this.options.intervalMs;
    if (due || this.sinceSnapshot() >= this.options.everyBytes) void this.saveNow();
  }

  /**
   * Awaited before a write (`pending`: bytes the writer accepted but has not written yet): while a
   * save is syncing, at most `everyBytes` more may be written,
   * so a kill on a fast link costs a bounded amount even when syncing is slower than the network.
   */
  room(pending = 0): Promise<void> | undefined {
    return this.saving && this.sinceSnapshot() + pending >= this.options.everyBytes ? this.saving : undefined;
  }

  private sinceSnapshot(): number {
    return bytesIn(this.options.segments()) - this.snapshotBytes;
  }

  /** Sync, snapshot, save; one at a time, and one more if asked while one ran. */
  saveNow(): Promise<void> {
    if (this.saving) {
      this.again = true;
      return this.saving;
    }
    this.saving = (async () => {
      do {
        this.again = false;
        this.lastSaveAt = this.options.now();
        await this.syncAndSnapshot();
        this.options.save();
      } while (this.again);
    })().finally(() => {
      this.saving = undefined;
    });
    return this.saving;
  }

  private async syncAndSnapshot(): Promise<void> {
    const source = this.options.segments();
    // Copied before the sync: every byte counted here was written before it started.
    const snapshot = source.map((segment) => ({ ...segment }));
    this.snapshotBytes = bytesIn(snapshot);
    try {
      await this.file?.datasync();
    } catch (error) {
      // Not synced, so not claimed; the next save tries again (a failing disk fails the writes too).
      this.options.logger.warn(`${this.options.tag} could not sync the part file: ${String(error)}`);
      return;
    }
    // A new layout adopted meanwhile (restart) makes this snapshot meaningless.
    if (this.options.segments() === source) this.durable = { source, snapshot };
  }
}
