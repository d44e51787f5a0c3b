/**
 * Fires once when no data arrived for `timeoutMs`: the caller aborts the connection and the
 * transfer resumes on a new one.
 */
export class StallWatch {
  private timer?: NodeJS.Timeout;
  stalled = false;

  constructor(private readonly timeoutMs: number, private readonly onStall: () => void) {}

  /** Call whenever data arrives. */
  arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.stalled = true;
      this.onStall();
    }, this.timeoutMs);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
