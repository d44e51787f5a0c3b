import type { promises as fs } from 'node:fs';
import type { Readable } from 'node:stream';
import { AbortError, TransferError, fromFileSystemError, redactUrl } from '../errors';
import type { HttpClient, OriginHeaders } from '../http/client';
import type { Logger } from '../logger';
import { PositionalWriter } from './positional-writer';
import { DEFAULT_MIN_SPLIT_BYTES, isComplete, pickWork, splitAt } from './planner';
import { chooseIfRange, formatRange, parseContentLength, parseContentRange, sameRepresentation } from '../http/range';
import type { DownloadRecord, Segment } from '../state/record';
import { RestartNeeded, SegmentationRefused } from './restart';
import { StallWatch } from '../http/stall';
import { passGate, type BandwidthGate } from '../bandwidth/limits';

/** Queued bytes per connection: small, so a split rarely lands in bytes already on their way. */
const SEGMENT_QUEUE_BYTES = 256 * 1024;

/** What the segmented fetcher needs from the download task that owns the record. */
export interface SegmentHost {
  /** The live record: segments are mutated in place as bytes are written. */
  readonly record: DownloadRecord;
  readonly http: HttpClient;
  readonly logger: Logger;
  readonly tag: string;
  readonly stallTimeoutMs: number;
  readonly minSplitBytes?: number;
  /** The user's headers for an origin; the HTTP client scopes them. */
  readonly originHeaders?: OriginHeaders;
  /** Speed limits every connection's bytes pass through. */
  readonly bandwidth: BandwidthGate;
  /** Called after every completed write (progress, periodic save). */
  onBytes(): void;
  /** Awaited before a write when it returns a promise (a save catching up); see PositionalWriter. */
  beforeWrite?(pending: number): Promise<void> | undefined;
  /** Asked before each write batch (the transfer's claim). */
  guard?: () => Promise<void>;
}

/** A body already flowing for a segment: the first connection's 200 response. */
export interface FlowingBody {
  segment: Segment;
  body: Readable;
  connection: AbortController;
}

/**
 * Downloads every unfinished segment over up to `connections` connections, each writing at its
 * own offset into the one part file. A connection that runs out of work splits the largest
 * missing run. Every 206 is checked (exact Content-Range, same validator); anything else stops
 * all connections with RestartNeeded (file changed) or SegmentationRefused (use one connection).
 */
export async function fetchSegments(
  host: SegmentHost,
  handle: fs.FileHandle,
  connections: number,
  signal: AbortSignal,
  flowing?: FlowingBody,
): Promise<void> {
  const segments = host.record.segments;
  const busy = new Set<Segment>();
  const group = new AbortController();
  const onAbort = () => group.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let failure: unknown;
  const minSplit = host.minSplitBytes ?? DEFAULT_MIN_SPLIT_BYTES;

  const worker = async (first?: FlowingBody): Promise<void> => {
    let job: FlowingBody | { segment: Segment; body?: undefined; connection?: undefined } | undefined = first;
    while (!group.signal.aborted) {
      if (!job) {
        const work = pickWork(segments, busy, minSplit);
        if (!work) return;
        const segment = work.kind === 'take' ? work.segment : splitAt(segments, work.from, work.at);
        if (work.kind === 'split') host.logger.debug(`${host.tag} split at ${work.at}: ${segments.length} pieces`);
        job = { segment };
      }
      busy.add(job.segment);
      try {
        await fetchOne(host, handle, job.segment, group.signal, job.body && job.connection ? { body: job.body, connection: job.connection } : undefined);
      } finally {
        busy.delete(job.segment);
      }
      job = undefined;
    }
  };

  const run = async (first?: FlowingBody) => {
    try {
      await worker(first);
    } catch (error) {
      // The first failure wins; the aborts it causes in the other connections are not news.
      if (!group.signal.aborted) {
        failure = error;
        group.abort(new AbortError('segment-failed'));
      } else if (failure === undefined && signal.aborted) {
        failure = error;
      }
    }
  };

  try {
    const workers = [run(flowing)];
    for (let i = flowing ? 1 : 0; i < connections; i++) workers.push(run());
    await Promise.all(workers);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (failure !== undefined) throw failure;
  if (!segments.every(isComplete)) throw new TransferError('ERR_SHORT_BODY', 'segments left unfinished');
}

async function fetchOne(
  host: SegmentHost,
  handle: fs.FileHandle,
  segment: Segment,
  signal: AbortSignal,
  flowing?: { body: Readable; connection: AbortController },
): Promise<void> {
  if (isComplete(segment)) return;
  const record = host.record;
  let body = flowing?.body;
  const connection = flowing?.connection ?? new AbortController();
  const onAbort = () => connection.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (!body) {
      // Connections that start together split each other's segments in the same tick: take the
      // range only once they all have, or every early request would fetch bytes another one takes.
      await Promise.resolve();
      const from = segment.start + segment.done;
      const ifRange = chooseIfRange(record);
      if (!ifRange || segment.end === undefined) throw new SegmentationRefused('no strong validator');
      // What we ask for: a split while the request is under way may still shorten the segment, but
      // the answer must match the question; the body is cut at the segment's end as it is written.
      const askedEnd = segment.end;
      const headers = { range: formatRange(from, askedEnd - 1), 'if-range': ifRange };
      const response = await host.http.request(record.url, { headers, originHeaders: host.originHeaders, signal: connection.signal });
      body = response.body;
      const fresh = { etag: response.headers.get('etag') ?? undefined, lastModified: response.headers.get('last-modified') ?? undefined };
      if (response.status === 200) {
        response.discard();
        if (sameRepresentation(record, fresh) === false) throw new RestartNeeded('the file changed on the server (200 to a segment request)', 'ERR_CONTENT_CHANGED');
        throw new SegmentationRefused('the server answered a segment request with the whole file');
      }
      if (response.status !== 206) {
        response.discard();
        if (response.status === 416) throw new RestartNeeded('server answered 416 to a segment request', 'ERR_RANGE_MISMATCH');
        throw new TransferError('ERR_HTTP_STATUS', `server answered ${response.status} for ${redactUrl(record.url)}`, {
          status: response.status,
          retryAfter: response.headers.get('retry-after') ?? undefined,
        });
      }
      const range = parseContentRange(response.headers.get('content-range'));
      const announced = parseContentLength(response.headers.get('content-length'));
      if (!range || range.start !== from || range.end !== askedEnd - 1 || range.total !== record.length || (announced !== undefined && announced !== range.end - range.start + 1)) {
        response.discard();
        throw new SegmentationRefused(`unexpected Content-Range "${response.headers.get('content-range') ?? ''}" for bytes ${from}-${askedEnd - 1}`);
      }
      if (sameRepresentation(record, fresh) === false) {
        response.discard();
        throw new RestartNeeded('the file changed on the server (validators differ between connections)', 'ERR_CONTENT_CHANGED');
      }
    }
    await receiveSegment(host, handle, segment, body, connection, signal);
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Stops the body once the segment is full (it may have been shortened by a split).
    connection.abort(new AbortError('segment-done'));
  }
}

async function receiveSegment(
  host: SegmentHost,
  handle: fs.FileHandle,
  segment: Segment,
  body: Readable,
  connection: AbortController,
  signal: AbortSignal,
): Promise<void> {
  const stall = new StallWatch(host.stallTimeoutMs, () => connection.abort(new AbortError('stall')));
  const writer = new PositionalWriter(
    handle,
    segment.start + segment.done,
    (bytes) => {
      // A split may have moved the end into bytes already queued; they are the same bytes the new
      // piece fetches (same strong validator), so only the part up to the end counts here.
      segment.done = Math.min(segment.done + bytes, (segment.end as number) - segment.start);
      host.onBytes();
    },
    SEGMENT_QUEUE_BYTES,
    host.beforeWrite && ((pending) => host.beforeWrite?.(pending)),
    host.guard,
  );
  let failure: unknown;
  try {
    stall.arm();
    for await (const data of body) {
      stall.arm();
      const room = (segment.end as number) - writer.acceptedEnd;
      if (room <= 0) break;
      const chunk = (data as Buffer).length > room ? (data as Buffer).subarray(0, room) : (data as Buffer);
      await passGate(host.bandwidth, chunk.length, connection.signal, stall);
      await writer.write(chunk);
      if (writer.acceptedEnd >= (segment.end as number)) break;
    }
  } catch (error) {
    failure = stall.stalled && !signal.aborted ? new TransferError('ERR_STALLED', `no data for ${Math.round(host.stallTimeoutMs / 1000)} s`, { cause: error }) : error;
  }
  // Whatever arrived is good: write it before reporting, so a resume starts after it.
  const writeError = await writer.flush().then(
    () => undefined,
    (error: unknown) => error,
  );
  stall.stop();
  if (writeError !== undefined) throw fromFileSystemError(writeError, 'write the part file');
  if (isComplete(segment)) return;
  if (failure !== undefined) throw failure;
  throw new TransferError('ERR_SHORT_BODY', `connection ended at ${segment.start + segment.done} before ${segment.end}`);
}
