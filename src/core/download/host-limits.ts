/**
 * How many connections each host gets. A host that answers 429 / 503 or resets connections gets
 * fewer from then on (remembered for the life of this object), so we never hammer a server that
 * asked us to slow down.
 */
export class HostConnectionLimits {
  private readonly limits = new Map<string, number>();

  /** `onReduce` hears every new limit (a worker thread reports them to the shared object). */
  constructor(private readonly onReduce?: (limits: Record<string, number>) => void) {}

  /** Connections to use for `url`: what the user asked for, capped by what the host tolerated. */
  limitFor(url: string, wanted: number): number {
    const limit = this.limits.get(hostOf(url));
    return Math.max(1, limit === undefined ? wanted : Math.min(wanted, limit));
  }

  /** Halves the host's limit (at least 1); returns the new limit. */
  reduce(url: string, current: number): number {
    const next = Math.max(1, Math.floor(current / 2));
    this.limits.set(hostOf(url), next);
    this.onReduce?.(this.toJSON());
    return next;
  }

  /** Takes over limits learned elsewhere (a worker thread, a saved copy); the lower limit wins. */
  merge(limits: Record<string, number>): void {
    let changed = false;
    for (const [host, limit] of Object.entries(limits)) {
      if (!Number.isSafeInteger(limit) || limit < 1) continue;
      const known = this.limits.get(host);
      if (known !== undefined && known <= limit) continue;
      this.limits.set(host, limit);
      changed = true;
    }
    if (changed) this.onReduce?.(this.toJSON());
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.limits);
  }

  static fromJSON(value: unknown, onReduce?: (limits: Record<string, number>) => void): HostConnectionLimits {
    const limits = new HostConnectionLimits();
    if (typeof value === 'object' && value !== null) limits.merge(value as Record<string, number>);
    return new HostConnectionLimits(onReduce).adopt(limits);
  }

  private adopt(other: HostConnectionLimits): this {
    for (const [host, limit] of other.limits) this.limits.set(host, limit);
    return this;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
