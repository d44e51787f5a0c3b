import type { Clock } from '../clock';

/**
 * Bytes per second for one limit, shared fairly by everyone who takes from it. Tokens refill at
 * the limit up to a small burst; a take may leave the bucket in debt by one chunk, so the long-run
 * rate is exact and the next take simply waits longer. Waiters are served round robin by key (a
 * transfer, or a connection), so eight connections of one transfer don't crowd out another
 * transfer's one. A limit of 0 means none: takes pass at once and cost nothing.
 */
export class TokenBucket {
  private bytesPerSecond: number;
  private tokens: number;
  private refilledAt: number;
  /** Waiters per key; Map order is the round-robin order (a served key moves to the back). */
  private readonly queues = new Map<string, Waiter[]>();
  private pumping = false;
  /** Wakes the pump early when the limit changes while it sleeps. */
  private wake?: AbortController;

  constructor(
    bytesPerSecond: number,
    private readonly clock: Clock,
    /** How many seconds of the limit may pass at once after an idle spell. */
    private readonly burstSeconds = 0.25,
  ) {
    this.bytesPerSecond = sanitize(bytesPerSecond);
    this.tokens = this.capacity();
    this.refilledAt = clock.now();
  }

  get limit(): number {
    return this.bytesPerSecond;
  }

  /** Applies at once, also to takes already waiting. */
  setLimit(bytesPerSecond: number): void {
    const next = sanitize(bytesPerSecond);
    if (next === this.bytesPerSecond) return;
    this.refill();
    this.bytesPerSecond = next;
    this.tokens = Math.min(this.tokens, this.capacity());
    this.wake?.abort();
  }

  /** Resolves when `bytes` may pass; rejects with the signal's reason if it aborts first. */
  take(bytes: number, signal?: AbortSignal, key = ''): Promise<void> {
    if (this.bytesPerSecond === 0 || bytes <= 0) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject, key, signal };
      waiter.onAbort = () => {
        this.remove(waiter);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      const queue = this.queues.get(key);
      if (queue) queue.push(waiter);
      else this.queues.set(key, [waiter]);
      void this.pump();
    });
  }

  private capacity(): number {
    return this.bytesPerSecond * this.burstSeconds;
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.refilledAt) / 1000;
    this.refilledAt = now;
    if (this.bytesPerSecond > 0) this.tokens = Math.min(this.capacity(), this.tokens + elapsed * this.bytesPerSecond);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const next = this.peek();
        if (!next) return;
        this.refill();
        if (this.bytesPerSecond === 0) {
          // The limit was lifted: everyone waiting may go.
          this.releaseAll();
          this.tokens = 0;
          return;
        }
        if (this.tokens >= 0) {
          this.tokens -= next.bytes;
          this.grant(next);
          continue;
        }
        const waitMs = Math.max(1, Math.ceil((-this.tokens / this.bytesPerSecond) * 1000));
        this.wake = new AbortController();
        await this.clock.sleep(waitMs, this.wake.signal).catch(() => undefined);
        this.wake = undefined;
      }
    } finally {
      this.pumping = false;
    }
  }

  private peek(): Waiter | undefined {
    for (const queue of this.queues.values()) return queue[0];
    return undefined;
  }

  /** Serves the head of the first key's queue and moves that key to the back. */
  private grant(waiter: Waiter): void {
    const queue = this.queues.get(waiter.key) as Waiter[];
    queue.shift();
    this.queues.delete(waiter.key);
    if (queue.length > 0) this.queues.set(waiter.key, queue);
    this.settle(waiter);
  }

  private releaseAll(): void {
    const all = [...this.queues.values()].flat();
    this.queues.clear();
    all.forEach((waiter) => this.settle(waiter));
  }

  private settle(waiter: Waiter): void {
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.resolve();
  }

  private remove(waiter: Waiter): void {
    const queue = this.queues.get(waiter.key);
    if (!queue) return;
    const index = queue.indexOf(waiter);
    if (index >= 0) queue.splice(index, 1);
    if (queue.length === 0) this.queues.delete(waiter.key);
  }
}

interface Waiter {
  bytes: number;
  key: string;
  signal?: AbortSignal;
  resolve: () => void;
  reject: (reason: unknown) => void;
  onAbort?: () => void;
}

function sanitize(bytesPerSecond: number): number {
  return Number.isFinite(bytesPerSecond) && bytesPerSecond > 0 ? bytesPerSecond : 0;
}
