import type { Clock } from '../clock';
import { Emitter, type Event } from '../events';
import type { Logger } from '../logger';
import type { TransferRecord } from './record';
import type { TransferStore } from './store';

export interface RecordKeeperOptions<T extends TransferRecord> {
  store: TransferStore;
  clock: Clock;
  logger: Logger;
  /** Prefix of log lines, e.g. `[id]`. */
  tag: string;
  /**
   * What a save stores and announces, given the live record (default: the live record). A
   * download stores only the progress it has synced to disk, while the live record runs ahead.
   */
  present?: (live: T) => T;
}

/**
 * Owns a running transfer's record: every change is saved through the store, one save at a time
 * and in order; saves from the byte loop run in the background so they never hold up data.
 */
export class RecordKeeper<T extends TransferRecord> {
  private current: T;
  private persisting: Promise<void> = Promise.resolve();
  private readonly emitter = new Emitter<T>();
  /** Every saved version of the record. */
  readonly onRecord: Event<T> = this.emitter.event;

  constructor(record: T, private readonly options: RecordKeeperOptions<T>) {
    // The owner mutates parts of the record while bytes flow: never the caller's copy.
    this.current = structuredClone(record);
  }

  get record(): T {
    return this.current;
  }

  /**
   * Applies `patch` and waits until it is saved. The save joins the queue of background saves:
   * one that started beside it could land after it, and a "running" record would then be stored
   * (and shown) over "completed", to be downloaded again after a reload.
   */
  update(patch: Partial<T>): Promise<void> {
    this.current = { ...this.current, ...patch };
    const saved = this.persisting.then(() => this.save());
    // The queue goes on after a failed save; the caller hears of the failure.
    this.persisting = saved.catch(() => undefined);
    return saved;
  }

  /** Applies `patch` now and saves it in the background. */
  patchSoon(patch: Partial<T>): void {
    this.current = { ...this.current, ...patch };
    this.saveSoon();
  }

  /** Saves the current record in the background; at most one save is in flight. */
  saveSoon(): void {
    this.persisting = this.persisting.then(() => this.save()).catch((error: unknown) => {
      this.options.logger.warn(`${this.options.tag} could not save progress: ${String(error)}`);
    });
  }

  /** Waits for background saves. */
  async settle(): Promise<void> {
    await this.persisting;
  }

  /** Saves now, e.g. so the store renews the ownership lease while no bytes flow. */
  checkpoint(): Promise<void> {
    this.saveSoon();
    return this.persisting;
  }

  private async save(): Promise<void> {
    this.current = { ...this.current, updatedAt: this.options.clock.now() };
    const saved = this.options.present ? this.options.present(this.current) : this.current;
    // Stores may keep what they are given: hand them a snapshot, not the live object.
    await this.options.store.put(structuredClone(saved));
    this.emitter.fire(saved);
  }
}

