/**
 * Fires once when no data arrived for `timeoutMs`: the caller aborts the connection and the
 * transfer resumes on a new one. Data only stamps the time; one timer checks the stamp, so a
 * fast transfer does not create and cancel a timer for every chunk.
 */
export class StallWatch {
  private timer?: NodeJS.Timeout;
  private lastActivity = 0;
  stalled = false;

  constructor(private readonly timeoutMs: number, private readonly onStall: () => void) {}

  /** Call whenever data arrives. */
  arm(): void {
    this.lastActivity = Date.now();
    this.timer ??= setTimeout(() => this.check(), this.timeoutMs);
  }

  private check(): void {
    this.timer = undefined;
    const idle = Date.now() - this.lastActivity;
    if (idle >= this.timeoutMs) {
      this.stalled = true;
      this.onStall();
    } else {
      this.timer = setTimeout(() => this.check(), this.timeoutMs - idle);
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
