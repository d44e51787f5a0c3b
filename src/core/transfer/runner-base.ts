import { systemClock, type Clock } from '../clock';
import { AbortError, TransferError, throwIfAborted } from '../errors';
import { Emitter, type Event } from '../events';
import { silentLogger, type Logger } from '../logger';
import type { Segment, TransferRecord } from '../state/record';
import { RecordKeeper } from '../state/record-keeper';
import { RestartNeeded } from './restart';
import { RetryBudget, isRetryable, retryDelay, parseRetryAfter, type RetryPolicy } from './retry';
import type { TransferProgress } from './runner';
import { SpeedMeter, etaSeconds } from '../speed';
import type { TransferStore } from '../state/store';

/** Restarts from byte 0 within one run before the transfer is given up. */
export const MAX_RESTARTS = 3;

/**
 * What a runner plugs into the failure funnel (RunnerBase.runAttempts): how to make one attempt,
 * how to read a failure, how to start over, and how to record a stop.
 */
export interface AttemptSteps {
  /** One pass; resolves when the transfer is complete. */
  attempt(): Promise<void>;
  /**
   * What a failure is: a TransferError (AbortError for a stop), a RestartNeeded, or something
   * the runner handled itself (`'handled'`: try again at once, e.g. with fewer connections).
   */
  classify(caught: unknown): Promise<TransferError | RestartNeeded | 'handled'>;
  /** Bytes saved so far: only progress past the furthest point resets the retry counter. */
  saved(): number;
  /** Starts over from byte 0 (a download's new generation, an upload's new creation). */
  restart(why: RestartNeeded): Promise<void>;
  /** Records a stop (pause, cancel, shutdown); the funnel rethrows the AbortError. */
  stopped(error: AbortError): Promise<void>;
  /** Sees every retryable failure before the wait (e.g. fewer connections for a host). */
  beforeRetry?(error: TransferError): void;
}

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

  /**
   * The one failure funnel of downloads and uploads: attempts until success, a stop, or a failure
   * for good. A restart from byte 0 is allowed MAX_RESTARTS times per run; a retryable failure
   * waits (backoff, Retry-After) and tries again while the budget lasts, a budget that only
   * progress past the furthest saved point renews; giving up is ERR_RETRIES_EXHAUSTED for both
   * kinds, carrying the last cause (its status and network reason reach the record).
   */
  protected async runAttempts(signal: AbortSignal, policy: RetryPolicy, steps: AttemptSteps): Promise<T> {
    const budget = new RetryBudget(policy, steps.saved());
    let restarts = 0;
    for (;;) {
      try {
        throwIfAborted(signal);
        await steps.attempt();
        return this.rec;
      } catch (caught) {
        let error = await steps.classify(caught);
        if (error === 'handled') continue;
        if (error instanceof RestartNeeded) {
          restarts += 1;
          const code = error.code ?? 'ERR_CONTENT_CHANGED';
          if (restarts > MAX_RESTARTS) return this.fail(new TransferError(code, `gave up after ${MAX_RESTARTS} restarts: ${error.reason}`));
          try {
            await steps.restart(error);
            continue;
          } catch (failure) {
            // E.g. the local file vanished: reported like any other failure, the record stays.
            const reported = await steps.classify(failure);
            if (!(reported instanceof TransferError)) throw failure;
            error = reported;
          }
        }
        if (error instanceof AbortError) {
          await this.settle();
          await steps.stopped(error);
          throw error;
        }
        budget.noteSaved(steps.saved());
        if (!isRetryable(error)) return this.fail(error);
        steps.beforeRetry?.(error);
        const attempt = budget.nextAttempt();
        if (attempt === undefined) {
          return this.fail(
            new TransferError('ERR_RETRIES_EXHAUSTED', `gave up after ${policy.retries} ${policy.retries === 1 ? 'retry' : 'retries'}: ${error.message}`, {
              status: error.status,
              cause: error,
            }),
          );
        }
        await this.waitToRetry(error, attempt, policy, signal);
      }
    }
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
