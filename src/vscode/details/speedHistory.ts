import type { TransferSnapshot } from '../../core';

/** One moment of the speed graph: the total and each connection's speed (bytes per second). */
export interface SpeedSample {
  /** Epoch ms. */
  at: number;
  total: number;
  /** Keyed by the segment's start offset: a connection fills one segment. */
  connections: Record<number, number>;
}

/** Samples kept for the graph: two minutes at the panel's refresh rate. */
const MAX_SAMPLES = 240;
/** A connection counts as in flight when its segment grew within this long. */
const ACTIVE_WINDOW_MS = 3000;

/**
 * The speed over time of one transfer, measured only while its details panel is open. Per
 * connection it is the growth of each segment's saved bytes between two samples; the total is the
 * engine's own measure. Bounded: the oldest samples go.
 */
export class SpeedHistory {
  private readonly samples: SpeedSample[] = [];
  private last?: { at: number; done: Map<number, number> };
  /** Colour of each connection, by segment start, in the order they were first seen: stable. */
  private readonly colours = new Map<number, number>();

  add(snapshot: TransferSnapshot, at: number): void {
    const { record, progress } = snapshot;
    // The progress event carries the segments as written; the record only as of its last save.
    const segments = record.kind === 'download' ? (progress?.segments ?? record.segments) : [{ start: 0, done: progress?.bytes ?? record.offset }];
    const done = new Map<number, number>(segments.map((s) => [s.start, s.done]));
    const connections: Record<number, number> = {};
    if (this.last && at > this.last.at) {
      for (const [start, bytes] of done) {
        const before = this.last.done.get(start);
        if (before !== undefined && bytes > before) {
          connections[start] = ((bytes - before) * 1000) / (at - this.last.at);
          if (!this.colours.has(start)) this.colours.set(start, this.colours.size);
        }
      }
    }
    this.last = { at, done };
    const running = record.state === 'running';
    this.samples.push({ at, total: running ? (progress?.bytesPerSecond ?? 0) : 0, connections: running ? connections : {} });
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
  }

  list(): readonly SpeedSample[] {
    return this.samples;
  }

  /** Segments (by start) whose bytes grew in the last few seconds: the connections in flight now. */
  activeConnections(): Set<number> {
    const latest = this.samples.at(-1);
    const recent = this.samples.filter((s) => latest && latest.at - s.at <= ACTIVE_WINDOW_MS);
    return new Set(recent.flatMap((s) => Object.keys(s.connections).map(Number)));
  }

  /** Colour index per connection (segment start), stable for the life of the panel. */
  connectionColours(): Record<number, number> {
    return Object.fromEntries(this.colours);
  }
}
