import type { promises as fs } from 'node:fs';
import type { Readable } from 'node:stream';
import { AbortError, TransferError, fromFileSystemError, redactUrl } from '../errors';
import type { HttpClient, HttpResponse, OriginHeaders } from '../http/client';
import { checkPartialResponse } from '../http/partial-response';
import type { Logger } from '../logger';
import { BodyReader } from './body-reader';
import { PositionalWriter } from './positional-writer';
import { DEFAULT_MIN_SPLIT_BYTES, isComplete, pickWork, splitAt } from './planner';
import { chooseIfRange, formatRange, parseUnsatisfiedRange, sameRepresentation } from '../http/range';
import { readAt } from './part-file';
import type { DownloadRecord, Segment } from '../state/record';
import { RestartNeeded, SegmentationRefused } from '../transfer/restart';
import { StallWatch } from '../http/stall';
import { passGate, type BandwidthGate } from '../bandwidth/limits';

/** Queued bytes per connection: small, so a split rarely lands in bytes already on their way. */
const SEGMENT_QUEUE_BYTES = 256 * 1024;

/**
 * Bytes already on disk that one open-ended response may pass over to reach the next segment
 * that lacks bytes. About what an abandoned response has on its way on a fast link: beyond it, a
 * new request costs less than reading them again.
 */
const PASS_OVER_BYTES = 4 * 1024 * 1024;

/** What the byte loop needs from the download task that owns the record. */
export interface SegmentHost {
  /** The live record: segments are mutated in place as bytes are written. */
  record(): DownloadRecord;
  readonly http: HttpClient;
  readonly logger: Logger;
  readonly tag: string;
  readonly stallTimeoutMs: number;
  readonly minSplitBytes?: number;
  /** The user's headers for an origin; the HTTP client scopes them. */
  readonly originHeaders?: OriginHeaders;
  /** Bytes re-fetched and compared before appending when there is no strong validator. */
  readonly overlapBytes: number;
  /** Speed limits every connection's bytes pass through. */
  readonly bandwidth: BandwidthGate;
  /** Called after every completed write (progress, periodic save). */
  onBytes(): void;
  /** Awaited before a write when it returns a promise (a save catching up); see PositionalWriter. */
  beforeWrite?(pending: number): Promise<void> | undefined;
  /** Asked before each write batch (the transfer's claim). */
  guard?: () => Promise<void>;
  /** The file's length became known (a 206's total, or the clean end of a body of unknown length). */
  onLength(length: number): void;
  /** A 206 passed its checks: what else its headers say (digests); throwing refuses the body. */
  onPartialResponse?(response: HttpResponse): Promise<void>;
  /** Bytes about to be written at `position` (hashing while writing, where bytes come in order). */
  onWrite?(position: number, data: Buffer): void;
  /**
   * True once the server answered a bounded range (`bytes=a-b`) with the whole file or with more
   * than was asked. Until then one connection asks bounded ranges for segments that end before
   * the end of the file (those a split left behind): an open-ended request for a segment in the
   * middle makes the server send the rest of the file, most of it wasted once the segment is full.
   */
  boundedRangesRefused?: boolean;
}

/** A body already flowing for a segment: the first connection's 200 response. */
export interface FlowingBody {
  segment: Segment;
  body: Readable;
  connection: AbortController;
}

/** Identity bytes only: ranges count encoded bytes, so an encoded body is never spliced. */
export function rejectEncoded(response: HttpResponse): void {
  const encoding = response.headers.get('content-encoding');
  if (encoding && encoding.trim().toLowerCase() !== 'identity' && (response.status === 200 || response.status === 206)) {
    throw new TransferError('ERR_CONTENT_ENCODING', `server sent ${encoding}-encoded data although identity was requested`);
  }
}

/**
 * The one byte loop of every download: fills every unfinished segment over up to `connections`
 * connections, each writing at its own offset into the one part file. A single-connection
 * download is the same loop with one segment. A connection that runs out of work splits the
 * largest missing run. With several connections each asks for its segment (`bytes=a-b`); with
 * one, requests are open-ended (`bytes=a-`), which servers that refuse bounded ranges still
 * serve (a segment that ends early is asked bounded until the server refuses that); either way a
 * connection writes only to its segment's end. One connection takes the segments in file order
 * and goes on reading an open-ended response into the next segment that lacks bytes, so the
 * server sends the rest of the file once, not once per segment. Every 206 passes
 * checkPartialResponse; anything else stops all connections with RestartNeeded (start over) or
 * SegmentationRefused (go on with one connection).
 */
export async function fetchSegments(
  host: SegmentHost,
  handle: fs.FileHandle,
  connections: number,
  signal: AbortSignal,
  flowing?: FlowingBody,
): Promise<void> {
  const segments = host.record().segments;
  const busy = new Set<Segment>();
  const group = new AbortController();
  const onAbort = () => group.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let failure: unknown;
  const minSplit = host.minSplitBytes ?? DEFAULT_MIN_SPLIT_BYTES;
  const openEnded = connections === 1;

  const connection = async (first?: FlowingBody): Promise<void> => {
    let segment = first?.segment;
    /** A response that runs to the end of the file, still open after the last segment filled. */
    let open: OpenBody | undefined = first && { reader: new BodyReader(first.body, first.segment.start + first.segment.done), connection: first.connection };
    try {
      while (!group.signal.aborted) {
        if (!segment && open) {
          segment = openEnded ? nextInFileOrder(segments, busy, open.reader.position) : undefined;
          if (!segment) {
            open.connection.abort(new AbortError('segment-done'));
            open = undefined;
          }
        }
        if (!segment) {
          const work = pickWork(segments, busy, minSplit, openEnded);
          if (!work) return;
          segment = work.kind === 'take' ? work.segment : splitAt(segments, work.from, work.at);
          if (work.kind === 'split') host.logger.debug(`${host.tag} split at ${work.at}: ${segments.length} segments`);
        }
        busy.add(segment);
        const carried = open;
        open = undefined;
        try {
          open = await fetchOne(host, handle, segment, openEnded, group.signal, carried);
        } finally {
          busy.delete(segment);
        }
        segment = undefined;
      }
    } finally {
      open?.connection.abort(new AbortError('segment-done'));
    }
  };

  const run = async (first?: FlowingBody) => {
    try {
      await connection(first);
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
    const running = flowing ? [run(flowing)] : [];
    while (running.length < connections) running.push(run());
    await Promise.all(running);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (failure !== undefined) throw failure;
  if (!segments.every(isComplete)) throw new TransferError('ERR_SHORT_BODY', 'segments left unfinished');
}

/** A response body that runs to the end of the file, with the connection that carries it. */
interface OpenBody {
  reader: BodyReader;
  connection: AbortController;
}

/**
 * The segment an open response at `position` should fill next: the first one in file order that
 * lacks bytes, when no other connection has it, its missing bytes are still ahead in the body,
 * and the bytes before them are few enough to read again.
 */
function nextInFileOrder(segments: readonly Segment[], busy: ReadonlySet<Segment>, position: number): Segment | undefined {
  let first: Segment | undefined;
  for (const segment of segments) {
    if (!isComplete(segment) && (!first || segment.start < first.start)) first = segment;
  }
  if (!first || busy.has(first)) return undefined;
  const from = first.start + first.done;
  return from >= position && from - position <= PASS_OVER_BYTES ? first : undefined;
}

/**
 * Fills `segment` from `carried` (a body already open at or before its missing bytes) or a new
 * request. Returns the body when it runs on past the segment to the end of the file and one
 * connection may read it into the next segment; otherwise stops it.
 */
async function fetchOne(
  host: SegmentHost,
  handle: fs.FileHandle,
  segment: Segment,
  openEnded: boolean,
  signal: AbortSignal,
  carried?: OpenBody,
): Promise<OpenBody | undefined> {
  if (isComplete(segment)) return carried;
  const connection = carried?.connection ?? new AbortController();
  const onAbort = () => connection.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let handedOver = false;
  let open: OpenBody | undefined;
  try {
    const opened = carried ? { reader: carried.reader, toEnd: true } : await requestRange(host, handle, segment, openEnded, connection);
    await receiveSegment(host, handle, segment, opened.reader, 'verify' in opened ? opened.verify : undefined, connection, signal);
    if (opened.toEnd && openEnded && isComplete(segment)) open = { reader: opened.reader, connection };
    return open;
  } catch (error) {
    handedOver = error instanceof RestartNeeded && error.wholeFile !== undefined;
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Stops the body once the segment is full (it may have been shortened by a split).
    if (!handedOver && !open) connection.abort(new AbortError('segment-done'));
  }
}

/**
 * Asks for what `segment` lacks and checks the answer. Without a strong validator (one
 * connection only) the last bytes of the segment already on disk are asked for again, to be
 * compared before anything is appended.
 */
async function requestRange(
  host: SegmentHost,
  handle: fs.FileHandle,
  segment: Segment,
  openEnded: boolean,
  connection: AbortController,
): Promise<{ reader: BodyReader; verify?: Buffer; toEnd: boolean }> {
  // Connections that start together split each other's segments in the same tick: take the
  // range only once they all have, or every early request would fetch bytes another one takes.
  await Promise.resolve();
  const record = host.record();
  const from = segment.start + segment.done;
  const ifRange = chooseIfRange(record);
  if (!ifRange && !openEnded) throw new SegmentationRefused('no strong validator');
  const overlap = ifRange ? 0 : Math.min(host.overlapBytes, segment.done);
  if (!ifRange && overlap === 0) {
    throw new RestartNeeded(`no validator, and no bytes before ${from} to compare the server's with`, 'ERR_RANGE_MISMATCH');
  }
  const endsEarly = segment.end !== undefined && record.length !== undefined && segment.end < record.length;
  const bounded = segment.end !== undefined && (!openEnded || (endsEarly && host.boundedRangesRefused !== true));
  const asked = { start: from - overlap, end: bounded ? (segment.end as number) - 1 : undefined };
  const headers: Record<string, string> = { range: formatRange(asked.start, asked.end) };
  if (ifRange) headers['if-range'] = ifRange;
  host.logger.debug(`${host.tag} GET ${headers.range}${ifRange ? ` If-Range ${ifRange}` : ` (overlap ${overlap})`}`);
  const response = await host.http.request(record.url, { headers, originHeaders: host.originHeaders, signal: connection.signal });
  try {
    rejectEncoded(response);
    const { status } = response;
    if (status === 206) {
      const verdict = checkPartialResponse(
        { ...asked, length: record.length, validators: record },
        {
          contentRange: response.headers.get('content-range'),
          contentLength: response.headers.get('content-length'),
          etag: response.headers.get('etag'),
          lastModified: response.headers.get('last-modified'),
        },
      );
      if (!verdict.ok) {
        if (verdict.kind === 'changed') throw new RestartNeeded(verdict.reason, 'ERR_CONTENT_CHANGED');
        if (openEnded) throw new RestartNeeded(verdict.reason, 'ERR_RANGE_MISMATCH');
        throw new SegmentationRefused(verdict.reason);
      }
      if (asked.end !== undefined && verdict.last > asked.end) host.boundedRangesRefused = true;
      await host.onPartialResponse?.(response);
      if (record.length === undefined) {
        segment.end = verdict.total;
        host.onLength(verdict.total);
      }
      const verify = overlap > 0 ? await readAt(handle, asked.start, overlap) : undefined;
      return { reader: new BodyReader(response.body, asked.start), verify, toEnd: verdict.last === verdict.total - 1 };
    }
    if (status === 200) {
      if (asked.end !== undefined) host.boundedRangesRefused = true;
      const fresh = { etag: response.headers.get('etag') ?? undefined, lastModified: response.headers.get('last-modified') ?? undefined };
      const changed = sameRepresentation(record, fresh) === false;
      if (!openEnded) {
        if (changed) throw new RestartNeeded('the file changed on the server (200 to a segment request)', 'ERR_CONTENT_CHANGED');
        throw new SegmentationRefused('the server answered a segment request with the whole file');
      }
      // One connection: this body is the restart's first response, not a byte of it is wasted.
      const why = changed ? 'the file changed on the server' : 'the server ignored the range request';
      throw new RestartNeeded(`${why} (200 instead of 206)`, changed ? 'ERR_CONTENT_CHANGED' : 'ERR_RANGE_MISMATCH', { response, connection });
    }
    if (status === 416) {
      const total = parseUnsatisfiedRange(response.headers.get('content-range'));
      throw new RestartNeeded(`server answered 416 (length ${total ?? 'unknown'}) for bytes from ${asked.start}`, 'ERR_RANGE_MISMATCH');
    }
    throw new TransferError('ERR_HTTP_STATUS', `server answered ${status} for ${redactUrl(record.url)}`, {
      status,
      retryAfter: response.headers.get('retry-after') ?? undefined,
    });
  } catch (error) {
    if (!(error instanceof RestartNeeded && error.wholeFile)) response.discard();
    throw error;
  }
}

async function receiveSegment(
  host: SegmentHost,
  handle: fs.FileHandle,
  segment: Segment,
  body: BodyReader,
  verify: Buffer | undefined,
  connection: AbortController,
  signal: AbortSignal,
): Promise<void> {
  const endOf = () => segment.end ?? Number.POSITIVE_INFINITY;
  const stall = new StallWatch(host.stallTimeoutMs, () => connection.abort(new AbortError('stall')));
  const writer = new PositionalWriter(
    handle,
    segment.start + segment.done,
    (bytes) => {
      // A split may have moved the end into bytes already queued; they are the same bytes the new
      // segment fetches (same strong validator), so only the part up to the end counts here.
      segment.done = Math.min(segment.done + bytes, endOf() - segment.start);
      host.onBytes();
    },
    SEGMENT_QUEUE_BYTES,
    host.beforeWrite && ((pending) => host.beforeWrite?.(pending)),
    host.guard,
  );
  let verified = 0;
  // An open response carried over from the segment before starts with bytes this one holds.
  let passOver = segment.start + segment.done - (verify?.length ?? 0) - body.position;
  let failure: unknown;
  try {
    stall.arm();
    for (let data = await body.next(); data !== undefined; data = await body.next()) {
      stall.arm();
      let chunk = data;
      if (passOver > 0) {
        const take = Math.min(chunk.length, passOver);
        passOver -= take;
        chunk = chunk.subarray(take);
        if (chunk.length === 0) continue;
      }
      if (verify) {
        const take = Math.min(chunk.length, verify.length - verified);
        if (!chunk.subarray(0, take).equals(verify.subarray(verified, verified + take))) {
          throw new RestartNeeded('the file changed on the server (overlap check failed)', 'ERR_CONTENT_CHANGED');
        }
        verified += take;
        chunk = chunk.subarray(take);
        if (verified === verify.length) {
          host.logger.debug(`${host.tag} overlap of ${verified} bytes matches`);
          verify = undefined;
        }
        if (chunk.length === 0) continue;
      }
      const room = endOf() - writer.acceptedEnd;
      if (room <= 0) {
        body.giveBack(chunk);
        break;
      }
      if (chunk.length > room) {
        body.giveBack(chunk.subarray(room));
        chunk = chunk.subarray(0, room);
      }
      await passGate(host.bandwidth, chunk.length, connection.signal, stall);
      host.onWrite?.(writer.acceptedEnd, chunk);
      await writer.write(chunk);
      if (writer.acceptedEnd >= endOf()) break;
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
  if (verify) throw new TransferError('ERR_SHORT_BODY', 'connection ended during the overlap check');
  if (segment.end === undefined) {
    // Unknown length (chunked): a clean end of the body is the end of the file.
    segment.end = segment.start + segment.done;
    host.onLength(segment.end);
    return;
  }
  throw new TransferError('ERR_SHORT_BODY', `connection ended at ${segment.start + segment.done} before ${segment.end}`);
}
