import type { Segment } from '../state/record';

/**
 * Piece planning for segmented downloads, after aria2: a connection that needs work takes an idle
 * unfinished segment, or else splits the largest missing run in the middle, so the slowest
 * connection's remaining range is shared. Pure functions over plain segments.
 */
export const DEFAULT_MIN_SPLIT_BYTES = 1024 * 1024;

/** Bytes of a (closed) segment still to fetch. */
export function remainingOf(segment: Segment): number {
  return segment.end === undefined ? Number.POSITIVE_INFINITY : segment.end - segment.start - segment.done;
}

export function isComplete(segment: Segment): boolean {
  return segment.end !== undefined && segment.done >= segment.end - segment.start;
}

export type Work = { kind: 'take'; segment: Segment } | { kind: 'split'; from: Segment; at: number };

/**
 * What a free connection should do next. `busy` holds the segments other connections are
 * fetching. A split leaves at least `minSplit` bytes on both sides. `inFileOrder` takes the
 * first unfinished segment rather than the largest (one connection: an open-ended response for
 * it carries the ones after it too).
 */
export function pickWork(segments: readonly Segment[], busy: ReadonlySet<Segment>, minSplit = DEFAULT_MIN_SPLIT_BYTES, inFileOrder = false): Work | undefined {
  let idle: Segment | undefined;
  for (const segment of segments) {
    if (busy.has(segment) || isComplete(segment)) continue;
    if (!idle || (inFileOrder ? segment.start < idle.start : remainingOf(segment) > remainingOf(idle))) idle = segment;
  }
  if (idle) return { kind: 'take', segment: idle };
  let largest: Segment | undefined;
  for (const segment of segments) {
    if (!busy.has(segment) || segment.end === undefined) continue;
    if (!largest || remainingOf(segment) > remainingOf(largest)) largest = segment;
  }
  if (!largest) return undefined;
  const remaining = remainingOf(largest);
  if (remaining < 2 * minSplit) return undefined;
  const from = largest.start + largest.done;
  return { kind: 'split', from: largest, at: from + Math.floor(remaining / 2) };
}

/**
 * Cuts `from` at `at` and returns the new segment [at, oldEnd). Mutates `from` (its owner keeps
 * writing into it and must stop at the new end) and inserts the new one in order.
 */
export function splitAt(segments: Segment[], from: Segment, at: number): Segment {
  if (from.end === undefined || at <= from.start + from.done || at >= from.end) throw new RangeError(`cannot split at ${at}`);
  const created: Segment = { start: at, end: from.end, done: 0 };
  from.end = at;
  segments.splice(segments.indexOf(from) + 1, 0, created);
  return created;
}

/** Initial layout for `connections` connections over `length` bytes, never below `minSplit` each. */
export function planSegments(length: number, connections: number, minSplit = DEFAULT_MIN_SPLIT_BYTES): Segment[] {
  const count = Math.max(1, Math.min(connections, Math.floor(length / minSplit)));
  const size = Math.ceil(length / count);
  const segments: Segment[] = [];
  for (let start = 0; start < length; start += size) segments.push({ start, end: Math.min(length, start + size), done: 0 });
  return segments.length > 0 ? segments : [{ start: 0, end: length, done: 0 }];
}

/** Adjacent finished segments merged, so a long download's record stays small. */
export function compactSegments(segments: readonly Segment[]): Segment[] {
  const result: Segment[] = [];
  for (const segment of segments) {
    const last = result[result.length - 1];
    if (last && isComplete(last) && isComplete(segment) && last.end === segment.start) {
      last.end = segment.end;
      last.done += segment.done;
    } else {
      result.push({ ...segment });
    }
  }
  return result;
}
