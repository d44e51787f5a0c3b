/**
 * How many connections each host gets. A host that answers 429 / 503 or resets connections gets
 * fewer from then on (remembered for the life of this object), so we never hammer a server that
 * asked us to slow down.
 */
export class HostConnectionLimits {
  private readonly limits = new Map<string, number>();

  /** Connections to use for `url`: what the user asked for, capped by what the host tolerated. */
  limitFor(url: string, wanted: number): number {
    const limit = this.limits.get(hostOf(url));
    return Math.max(1, limit === undefined ? wanted : Math.min(wanted, limit));
  }

  /** Halves the host's limit (at least 1); returns the new limit. */
  reduce(url: string, current: number): number {
    const next = Math.max(1, Math.floor(current / 2));
    this.limits.set(hostOf(url), next);
    return next;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.limits);
  }

  static fromJSON(value: unknown): HostConnectionLimits {
    const limits = new HostConnectionLimits();
    if (typeof value === 'object' && value !== null) {
      for (const [host, limit] of Object.entries(value)) {
        if (Number.isSafeInteger(limit) && (limit as number) >= 1) limits.limits.set(host, limit as number);
      }
    }
    return limits;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
