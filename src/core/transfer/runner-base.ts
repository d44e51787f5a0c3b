import { systemClock, type Clock } from '../clock';
import type { TransferError } from '../errors';
import { Emitter, type Event } from '../events';
import { silentLogger, type Logger } from '../logger';
import type { Segment, TransferRecord } from '../state/record';
import { RecordKeeper } from '../state/record-keeper';
import { retryDelay, parseRetryAfter, type RetryPolicy } from './retry';
import type { TransferProgress } from './runner';
import { SpeedMeter, etaSeconds } from '../speed';
import type { TransferStore } from '../state/store';

export interface TransferRetryEvent {
  id: string;
  attempt: number;
  delayMs: number;
  error: TransferError;
}

export interface RunnerBaseOptions {
  /**
   * Where the record is saved. A manager hands each runner a store that checks the transfer's
   * claim and stamps its lease on every save (ClaimedStore): runners just save.
   */
  store: TransferStore;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  /** How often progress events fire at most (default 250 ms). */
  progressIntervalMs?: number;
}

/**
 * What downloads and uploads share: the record and its saves (a RecordKeeper), throttled progress
 * with speed and ETA, the wait before a retry, and how a failure is recorded.
 */
export abstract class RunnerBase<T extends TransferRecord> {
  protected readonly keeper: RecordKeeper<T>;
  protected readonly clock: Clock;
  protected readonly logger: Logger;
  private readonly progressEmitter = new Emitter<TransferProgress>();
  private readonly retryEmitter = new Emitter<TransferRetryEvent>();
  private readonly speed = new SpeedMeter();
  private lastProgress = 0;
  /** Every saved change of the record (state, target, validators, periodic progress). */
  readonly onRecord: Event<T>;
  /** Throttled progress: bytes, speed, ETA. */
  readonly onProgress: Event<TransferProgress> = this.progressEmitter.event;
  /** A failure that will be retried, and after how long. */
  readonly onRetry: Event<TransferRetryEvent> = this.retryEmitter.event;

  protected constructor(record: T, private readonly base: RunnerBaseOptions) {
    this.clock = base.clock ?? systemClock;
    this.logger = base.logger ?? silentLogger;
    this.keeper = new RecordKeeper(record, {
      store: base.store,
      clock: this.clock,
      logger: this.logger,
      tag: `[${record.id}]`,
      present: (live) => this.presentRecord(live),
    });
    this.onRecord = this.keeper.onRecord;
  }

  get record(): T {
    return this.keeper.record;
  }

  /** Saves the current record now (renews the ownership lease while no bytes flow). */
  checkpoint(): Promise<void> {
    return this.keeper.checkpoint();
  }

  /** What a save stores, given the live record: a runner may hold back progress it cannot vouch for yet. */
  protected presentRecord(live: T): T {
    return live;
  }

  /** The live record (parts of it change in place while bytes flow). */
  protected get rec(): T {
    return this.keeper.record;
  }

  protected get tag(): string {
    return `[${this.keeper.record.id}]`;
  }

  protected settle(): Promise<void> {
    return this.keeper.settle();
  }

  protected update(patch: Partial<T>): Promise<void> {
    return this.keeper.update(patch);
  }

  /** Records the failure for good (the record stays, resumable by the user) and throws it. */
  protected async fail(error: TransferError): Promise<never> {
    await this.settle();
    await this.update({ state: 'failed', lastError: error.toJSON() } as Partial<T>);
    this.logger.error(`${this.tag} failed: ${error.code}: ${error.message}`);
    throw error;
  }

  /** Feeds the speed meter; fires a progress event at most every progressIntervalMs (or when forced). */
  protected reportProgress(bytes: number, length: number | undefined, force = false, segments?: readonly Segment[]): void {
    const now = this.clock.now();
    this.speed.add(now, bytes);
    if (!force && now - this.lastProgress < (this.base.progressIntervalMs ?? 250)) return;
    this.lastProgress = now;
    const bytesPerSecond = this.speed.bytesPerSecond(now);
    this.progressEmitter.fire({
      id: this.rec.id,
      bytes,
      length,
      bytesPerSecond,
      etaSeconds: etaSeconds(length === undefined ? undefined : length - bytes, bytesPerSecond),
      segments: segments?.map((segment) => ({ ...segment })),
    });
  }

  /** After a restart from byte 0 the old samples would show a false speed. */
  protected resetSpeed(): void {
    this.speed.reset();
  }

  /**
   * Waits before retry number `attempt`: backoff with jitter or the server's Retry-After, told to
   * the log and to listeners, and saved as the record's last error. An abort ends the wait early;
   * the caller's loop reports it.
   */
  protected async waitToRetry(error: TransferError, attempt: number, policy: RetryPolicy, signal: AbortSignal): Promise<void> {
    const retryAfterMs = parseRetryAfter(error.retryAfter, this.clock.now());
    const delayMs = retryDelay(attempt, policy, this.base.random ?? Math.random, retryAfterMs);
    this.logger.warn(`${this.tag} ${error.code}: ${error.message}; retry ${attempt} in ${Math.round(delayMs)} ms`);
    this.retryEmitter.fire({ id: this.rec.id, attempt, delayMs, error });
    // In the record, not only in the event: a row in another window, or after a reload, can say it too.
    const retry = { attempt, of: policy.retries, at: this.clock.now() + delayMs };
    await this.update({ lastError: { ...error.toJSON(), retry } } as Partial<T>);
    try {
      await this.clock.sleep(delayMs, signal);
    } catch {
      // Aborted while waiting.
    }
  }
}
