/**
 * Transfer speed over a sliding window, from a bounded ring of samples: smooth enough for a
 * status bar, quick to react when a transfer stalls.
 */
export class SpeedMeter {
  private readonly samples: { at: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 5_000, private readonly maxSamples = 64) {}

  /** Record the running total of bytes at time `at` (ms). */
  add(at: number, totalBytes: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && at - last.at < 100) {
      last.bytes = totalBytes;
      return;
    }
    this.samples.push({ at, bytes: totalBytes });
    while (this.samples.length > this.maxSamples || (this.samples.length > 2 && at - this.samples[0].at > this.windowMs)) {
      this.samples.shift();
    }
  }

  /** Bytes per second, or 0 before there are two samples. */
  bytesPerSecond(now: number): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    // Time since the last sample counts too: a stalled transfer's speed falls towards zero.
    const elapsed = Math.max(now, last.at) - first.at;
    return elapsed > 0 ? ((last.bytes - first.bytes) * 1000) / elapsed : 0;
  }

  reset(): void {
    this.samples.length = 0;
  }
}

/** Seconds left at the current speed; undefined when it cannot be estimated. */
export function etaSeconds(remainingBytes: number | undefined, bytesPerSecond: number): number | undefined {
  if (remainingBytes === undefined || bytesPerSecond <= 0) return undefined;
  return Math.ceil(remainingBytes / bytesPerSecond);
}
