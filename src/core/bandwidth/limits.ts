import { systemClock, type Clock } from '../clock';
import { Emitter, type Event } from '../events';
import { TokenBucket } from './token-bucket';

/**
 * What a byte loop asks before it writes a chunk: "may these bytes pass now?". One narrow hook,
 * so the same loop runs limited or not, in this thread or in the download worker.
 */
export interface BandwidthGate {
  /** Whether any limit applies right now (an unlimited gate costs one resolved promise). */
  readonly limited: boolean;
  /** A limit was set, changed or lifted. */
  readonly onDidChange: Event<void>;
  /** Resolves when `bytes` may pass; rejects with the signal's reason when it aborts first. */
  take(bytes: number, signal?: AbortSignal): Promise<void>;
}

export const UNLIMITED: BandwidthGate = {
  limited: false,
  onDidChange: () => ({ dispose() {} }),
  take: () => Promise.resolve(),
};

/**
 * The global limit and each transfer's own, as token buckets. A chunk passes the transfer's
 * bucket first and then the global one, where transfers take turns: the global limit is shared
 * fairly across transfers, each transfer's across its connections. Changes apply at once, also
 * to bytes already waiting.
 */
export class BandwidthLimits {
  private readonly global: TokenBucket;
  private readonly perTransfer = new Map<string, TokenBucket>();
  private readonly changeEmitter = new Emitter<void>();
  readonly onDidChange: Event<void> = this.changeEmitter.event;

  constructor(globalBytesPerSecond = 0, private readonly clock: Clock = systemClock) {
    this.global = new TokenBucket(globalBytesPerSecond, clock);
  }

  get globalLimit(): number {
    return this.global.limit;
  }

  setGlobalLimit(bytesPerSecond: number): void {
    if (this.global.limit === Math.max(0, bytesPerSecond)) return;
    this.global.setLimit(bytesPerSecond);
    this.changeEmitter.fire();
  }

  /** The transfer's own limit in bytes per second, 0 when it has none. */
  limitOf(id: string): number {
    return this.perTransfer.get(id)?.limit ?? 0;
  }

  setTransferLimit(id: string, bytesPerSecond: number | undefined): void {
    const limit = bytesPerSecond ?? 0;
    const bucket = this.perTransfer.get(id);
    if ((bucket?.limit ?? 0) === Math.max(0, limit)) return;
    if (bucket) bucket.setLimit(limit);
    else this.perTransfer.set(id, new TokenBucket(limit, this.clock));
    this.changeEmitter.fire();
  }

  /** The transfer is gone: drop its bucket. */
  forget(id: string): void {
    if (this.perTransfer.delete(id)) this.changeEmitter.fire();
  }

  gateFor(id: string): BandwidthGate {
    const { global, perTransfer } = this;
    const own = () => perTransfer.get(id);
    return {
      get limited() {
        return global.limit > 0 || (own()?.limit ?? 0) > 0;
      },
      onDidChange: this.onDidChange,
      async take(bytes, signal) {
        await own()?.take(bytes, signal);
        await global.take(bytes, signal, id);
      },
    };
  }
}

/**
 * The hook in a byte loop: waits until `bytes` may pass. The stall watch rests meanwhile, since
 * waiting for our own limit is not a server that stopped sending.
 */
export async function passGate(gate: BandwidthGate, bytes: number, signal: AbortSignal, stall: { stop(): void; arm(): void }): Promise<void> {
  if (!gate.limited) return;
  stall.stop();
  await gate.take(bytes, signal);
  stall.arm();
}
