import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  AbortError,
  TransferError,
  abortReasonOf,
  fromFileSystemError,
  redactUrl,
  type TransferErrorCode,
} from '../errors';
import { nextFreeName, pickServerFilename, resolveInside } from '../filename';
import { networkError, type HttpClient, type HttpResponse, type OriginHeaders } from '../http/client';
import {
  createPartFile,
  deletePartialData,
  exists,
  fileSize,
  identityOf,
  openNoFollow,
  openPartFile,
  partPathFor,
  reservePartFile,
  sameFile,
  sameIdentity,
  statPartFile,
  syncDirectory,
} from './part-file';
import { ProgressSaver } from './progress-saver';
import { chooseIfRange, parseContentLength } from '../http/range';
import { DownloadIntegrity } from './integrity';
import { ExpiringLinkClient } from '../http/expired-link';
import { sameResource } from './link-identity';
import { downloadedBytes, initialSegments, reconcileWithPartSize, type DownloadRecord, type ExistingTargetPolicy, type Segment } from '../state/record';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../transfer/retry';
import { HostConnectionLimits } from './host-limits';
import { DEFAULT_MIN_SPLIT_BYTES } from './planner';
import { RestartNeeded, SegmentationRefused, type WholeFileResponse } from '../transfer/restart';
import type { TransferProgress, TransferRunner } from '../transfer/runner';
import { MAX_RESTARTS, RunnerBase, type RunnerBaseOptions, type TransferRetryEvent } from '../transfer/runner-base';
import { fetchSegments, rejectEncoded, type FlowingBody, type SegmentHost } from './segmented';
import { UNLIMITED, type BandwidthGate } from '../bandwidth/limits';

export type DownloadProgress = TransferProgress;

export type DownloadRetryEvent = TransferRetryEvent;

export interface DownloadOptions extends RunnerBaseOptions {
  http: HttpClient;
  retry?: RetryPolicy;
  /** No bytes for this long aborts the connection and resumes (default 30 s). */
  stallTimeoutMs?: number;
  /** How soon bytes on disk are in the saved record, whether or not more arrive (default 1 s). */
  persistIntervalMs?: number;
  /**
   * Also save after this many new bytes (default 64 MiB). Bytes past the saved count are never
   * trusted on resume, so on a fast link this bounds what a kill can cost, not just the time.
   */
  persistEveryBytes?: number;
  /** The user's headers for an origin (credentials): the HTTP client asks per origin; never persisted. */
  headers?: OriginHeaders;
  /** Bytes re-fetched and compared before appending when there is no strong validator. */
  overlapBytes?: number;
  /** Shared per-host connection limits (hosts that asked us to slow down get fewer). */
  connectionLimits?: HostConnectionLimits;
  /** No segment is split below this size (default 1 MiB). */
  minSplitBytes?: number;
  /** Speed limits this download's bytes pass through (default: none). */
  bandwidth?: BandwidthGate;
  /**
   * Asked before the part file is opened or cut and before each write batch; throws (stopping
   * the download) once another window or process holds this transfer's claim.
   */
  guard?: () => Promise<void>;
  /** Look for checksum files (`<name>.sha256`, `SHA256SUMS`, …) beside the download (default off here; the front ends turn it on). */
  checksumDiscovery?: boolean;
  /** How long the checksum lookup may take at most (default 5 s). */
  checksumDiscoveryTimeBoxMs?: number;
}


const DEFAULT_OVERLAP = 16 * 1024;

/**
 * Downloads one file into `<target>.part` following the rules in ARCHITECTURE.md: validators
 * from the first response, `If-Range` with a strong validator only, an overlap check without
 * one, exact `Content-Range` checks, restart on 200, length/checksum checks, fsync and an atomic
 * rename that never overwrites an existing file.
 */
export class DownloadTask extends RunnerBase<DownloadRecord> implements TransferRunner {
  private readonly saver: ProgressSaver;
  /** The most bytes ever saved in this run: only bytes beyond it are progress. */
  private highWater = 0;
  /** Set when the server does not serve ranges well enough: one connection from then on. */
  private segmentationRefused = false;
  /** The server answered a bounded range with more than was asked (see SegmentHost). */
  private boundedRangesRefused = false;
  /** Connections the last segmented attempt used (to know whether to back off a host). */
  private lastConnections = 1;
  private readonly connectionLimits: HostConnectionLimits;
  /** A 200 that answered a range request: the next attempt starts with it. */
  private handedOver?: WholeFileResponse;
  /** Digests, checksum lookup and the in-order hash of the current run. */
  private integrity: DownloadIntegrity;
  /** Requests for the file itself: an expired redirect target is refreshed from the URL the user gave. */
  private readonly http: ExpiringLinkClient;

  constructor(record: DownloadRecord, private readonly options: DownloadOptions) {
    super(record, options);
    this.connectionLimits = options.connectionLimits ?? new HostConnectionLimits();
    this.saver = new ProgressSaver({
      segments: () => this.rec.segments,
      save: () => this.keeper.saveSoon(),
      intervalMs: options.persistIntervalMs ?? 1000,
      everyBytes: options.persistEveryBytes ?? 64 * 1024 * 1024,
      logger: this.logger,
      tag: this.tag,
      now: () => this.clock.now(),
    });
    this.integrity = this.newIntegrity();
    this.http = new ExpiringLinkClient(options.http, this.logger, this.tag);
  }

  /** Saves claim only synced bytes (see ProgressSaver). */
  protected override presentRecord(live: DownloadRecord): DownloadRecord {
    const segments = this.saver.claimable(live.segments);
    return segments === live.segments ? live : { ...live, segments };
  }

  /** A patch that brings a new segment layout vouches for its progress (restart, reconciliation). */
  protected override update(patch: Partial<DownloadRecord>): Promise<void> {
    if (patch.segments) this.saver.adopt(patch.segments);
    return super.update(patch);
  }

  private newIntegrity(): DownloadIntegrity {
    return new DownloadIntegrity({
      record: () => this.rec,
      update: (patch) => this.update(patch),
      http: this.options.http,
      headers: this.options.headers,
      logger: this.logger,
      tag: this.tag,
      discovery: this.options.checksumDiscovery ?? false,
      discoveryTimeBoxMs: this.options.checksumDiscoveryTimeBoxMs,
    });
  }

  /**
   * Runs until the file is complete (resolves with the completed record), fails for good
   * (rejects with a TransferError, record saved as failed) or `signal` aborts (rejects with an
   * AbortError; the record keeps everything needed to resume).
   */
  async run(signal: AbortSignal): Promise<DownloadRecord> {
    await this.update({ state: 'running', lastError: undefined });
    this.logger.info(`${this.tag} start ${redactUrl(this.rec.url)}`);
    this.saver.start();
    let fallbacks = 0;
    this.integrity = this.newIntegrity();
    try {
      return await this.runAttempts(signal, this.options.retry ?? DEFAULT_RETRY_POLICY, {
        attempt: () => this.attempt(signal),
        classify: async (caught) => {
          if (!(caught instanceof SegmentationRefused)) return this.classify(caught, signal);
          fallbacks += 1;
          this.segmentationRefused = true;
          this.logger.warn(`${this.tag} using one connection: ${caught.reason}`);
          if (fallbacks > MAX_RESTARTS) return new TransferError('ERR_RANGE_MISMATCH', caught.reason);
          if (!chooseIfRange(this.rec)) await this.restartFromZero(caught.reason, 'ERR_RANGE_MISMATCH');
          return 'handled';
        },
        saved: () => this.highWater,
        restart: async (why) => {
          await this.restartFromZero(why.reason, why.code ?? 'ERR_CONTENT_CHANGED');
          this.handedOver = why.wholeFile;
        },
        stopped: async (error) => {
          if (error.reason === 'pause') await this.update({ state: 'paused' });
          else if (error.reason === 'cancel') await this.update({ state: 'cancelled' });
          else await this.update({});
          this.logger.info(`${this.tag} stopped (${error.reason}) at ${downloadedBytes(this.rec)} bytes`);
        },
        beforeRetry: (error) => this.backOffHost(error),
      });
    } finally {
      this.saver.stop();
      this.handedOver?.response.discard();
      this.handedOver = undefined;
      this.integrity.dispose();
    }
  }

  /** Deletes the partial data of a download that is not running (cancel, remove). */
  async discard(): Promise<void> {
    if (this.rec.target) await deletePartialData(this.rec.target);
    else if (this.rec.reservingTarget && (await this.leftoverReservation(this.rec.reservingTarget))) await deletePartialData(this.rec.reservingTarget);
  }

  /** 429, 503 or reset connections while using several connections: fewer for this host from now on. */
  private backOffHost(error: TransferError): void {
    const overloaded = error.status === 429 || error.status === 503 || /ECONNRESET|EPIPE/.test(error.message);
    if (!overloaded || this.lastConnections <= 1) return;
    const limit = this.connectionLimits.reduce(this.rec.url, this.lastConnections);
    this.logger.warn(`${this.tag} ${error.code} with ${this.lastConnections} connections: using at most ${limit} for this host`);
  }

  private classify(caught: unknown, signal: AbortSignal): TransferError | RestartNeeded {
    if (caught instanceof RestartNeeded) return caught;
    if (signal.aborted) return new AbortError(abortReasonOf(signal));
    if (caught instanceof TransferError) return caught;
    return networkError(caught, this.rec.url, signal);
  }

  /**
   * One pass of the byte loop over what is missing, then the final checks. A download with nothing
   * on disk starts with a plain GET whose 200 names the file and flows into the loop as the first
   * segment's body; everything else is range requests from the loop itself.
   */
  private async attempt(signal: AbortSignal): Promise<void> {
    if (await this.finishedInPlace()) return;
    const offset = await this.reconcile();
    const length = this.rec.length;
    if (offset > 0 && length !== undefined && downloadedBytes(this.rec) >= length) {
      await this.finalize(signal);
      return;
    }
    const fresh = !this.rec.target || (this.rec.segments.length === 1 && offset === 0);
    const flowing = fresh ? await this.wholeFile(signal) : undefined;
    this.integrity.startDiscovery();
    const only = this.rec.segments.length === 1 ? this.rec.segments[0] : undefined;
    // The part file never holds more than the record vouches for, except between segments.
    await this.runSegmented(signal, flowing, only ? only.start + only.done : Number.MAX_SAFE_INTEGER);
    await this.finalize(signal);
  }

  /** The whole file's body: a 200 handed over by the byte loop, or a new request. */
  private async wholeFile(signal: AbortSignal): Promise<FlowingBody> {
    const handed = this.handedOver;
    this.handedOver = undefined;
    if (!handed) return this.requestWholeFile(signal);
    if (signal.aborted) {
      handed.response.discard();
      throw new AbortError(abortReasonOf(signal));
    }
    try {
      await this.adopt(handed.response);
    } catch (error) {
      handed.response.discard();
      throw error;
    }
    // The loop links the connection to `signal` again from here on.
    return { segment: this.rec.segments[0], body: handed.response.body, connection: handed.connection };
  }

  /** The first request: no Range, a 200 whose headers describe the file and name it. */
  private async requestWholeFile(signal: AbortSignal): Promise<FlowingBody> {
    const connection = new AbortController();
    const onAbort = () => connection.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.logger.debug(`${this.tag} GET whole file`);
      const response = await this.http.request(this.rec.url, { originHeaders: this.options.headers, signal: connection.signal });
      try {
        rejectEncoded(response);
        if (response.status === 206) throw new RestartNeeded('206 to a request without Range', 'ERR_RANGE_MISMATCH');
        if (response.status !== 200) {
          throw new TransferError('ERR_HTTP_STATUS', `server answered ${response.status} for ${redactUrl(this.rec.url)}`, {
            status: response.status,
            retryAfter: response.headers.get('retry-after') ?? undefined,
          });
        }
        await this.adopt(response);
      } catch (error) {
        response.discard();
        throw error;
      }
      return { segment: this.rec.segments[0], body: response.body, connection };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Several connections only when the length is known, the server serves byte ranges, there is a
   * strong validator to hold every connection to the same file, and the file is big enough.
   */
  private connectionsToUse(): number {
    const wanted = this.rec.connections ?? 1;
    const length = this.rec.length;
    const minSplit = this.options.minSplitBytes ?? DEFAULT_MIN_SPLIT_BYTES;
    if (wanted <= 1 || this.segmentationRefused || length === undefined || length < 2 * minSplit) return 1;
    if (this.rec.acceptRanges === false || !chooseIfRange(this.rec)) return 1;
    return this.connectionLimits.limitFor(this.rec.url, wanted);
  }

  private async runSegmented(signal: AbortSignal, flowing?: FlowingBody, truncateTo = Number.MAX_SAFE_INTEGER): Promise<void> {
    const target = this.rec.target;
    if (!target) throw new TransferError('ERR_FILE_SYSTEM', 'no target file');
    const connections = this.connectionsToUse();
    this.lastConnections = connections;
    const first = this.rec.segments[0];
    if (connections === 1 && this.rec.segments.length === 1 && first.start === 0) {
      // One connection writes in order: hash while writing, after the bytes already on disk.
      await this.integrity.beginInOrder(partPathFor(target), Math.min(first.done, truncateTo), signal);
    } else {
      // Segments arrive out of order: the file is hashed once it is complete.
      this.integrity.abandonInOrder();
    }
    this.logger.info(`${this.tag} ${connections} connection(s) over ${this.rec.segments.length} piece(s)`);
    const handle = await this.openPart(truncateTo);
    const host: SegmentHost = {
      record: () => this.rec,
      boundedRangesRefused: this.boundedRangesRefused,
      http: this.http,
      logger: this.logger,
      tag: this.tag,
      stallTimeoutMs: this.options.stallTimeoutMs ?? 30_000,
      minSplitBytes: this.options.minSplitBytes,
      originHeaders: this.options.headers,
      bandwidth: this.bandwidth,
      guard: this.options.guard,
      onBytes: () => {
        const saved = downloadedBytes(this.rec);
        if (saved > this.highWater) this.highWater = saved;
        this.tick();
      },
      beforeWrite: (pending) => this.saver.room(pending),
      overlapBytes: this.options.overlapBytes ?? DEFAULT_OVERLAP,
      onLength: (length) => this.keeper.patchSoon({ length }),
      onPartialResponse: async (response) => {
        this.checkNewLink(response);
        await this.integrity.noteHeaders(response.headers, response.status);
      },
      onWrite: (position, data) => this.integrity.feed(position, data),
    };
    this.saver.attach(handle);
    try {
      await fetchSegments(host, handle, connections, signal, flowing);
    } finally {
      this.boundedRangesRefused = host.boundedRangesRefused === true;
      await this.saver.detach();
      await handle.close().catch(() => undefined);
      this.tick(true);
    }
  }

  /**
   * A range answered from another resource than before (a refreshed or updated link) continues
   * the old bytes only when something proves it is the same file: a strong validator (If-Range
   * made the server check it) or a digest of the whole file equal to the recorded one.
   * A re-signed link to the same object (only the query differs) is the same resource.
   */
  private checkNewLink(response: HttpResponse): void {
    const before = this.rec.finalUrl;
    if (!before || sameResource(before, response.url)) return;
    const proof = chooseIfRange(this.rec) ? 'strong validator' : this.integrity.confirms(response.headers, response.status) ? 'same digest' : undefined;
    if (!proof) {
      throw new RestartNeeded(`the link changed to ${redactUrl(response.url)} and nothing proves it is the same file`, 'ERR_NOT_SAME_FILE');
    }
    this.logger.info(`${this.tag} the link changed to ${redactUrl(response.url)}: the same file (${proof})`);
    this.keeper.patchSoon({ finalUrl: response.url });
  }

  /** Takes over what the first full (200) response says about the file. */
  private async adopt(response: HttpResponse): Promise<void> {
    const { headers } = response;
    const length = parseContentLength(headers.get('content-length'));
    const patch: Partial<DownloadRecord> = {
      finalUrl: response.url,
      length,
      etag: headers.get('etag') ?? undefined,
      lastModified: headers.get('last-modified') ?? undefined,
      date: headers.get('date') ?? undefined,
      acceptRanges: /\bbytes\b/i.test(headers.get('accept-ranges') ?? ''),
      contentType: headers.get('content-type') ?? undefined,
      segments: initialSegments(length),
    };
    if (!this.rec.target) {
      const { name, renamedFrom } = pickServerFilename({
        contentDisposition: headers.get('content-disposition'),
        url: response.url,
        userUrl: this.rec.url,
      });
      patch.target = await this.freeTarget(name);
      patch.reservingTarget = undefined;
      if (renamedFrom !== undefined) {
        patch.serverName = renamedFrom;
        this.logger.warn(`${this.tag} the server named the file "${renamedFrom}", which tools load by themselves: saving as "${name}"`);
      }
    }
    await this.update(patch);
    this.logger.info(
      `${this.tag} ${response.url === this.rec.url ? '' : `via ${redactUrl(response.url)}, `}length ${length ?? 'unknown'}, ` +
        `ETag ${patch.etag ?? 'none'}, Last-Modified ${patch.lastModified ?? 'none'} → ${patch.target ?? this.rec.target}`,
    );
    await this.integrity.noteHeaders(headers, response.status);
    this.integrity.startDiscovery(headers.get('content-disposition'), response.url);
  }

  /**
   * A name in the target folder that neither a file nor another download's part file uses (or,
   * by the user's choice, the taken name itself, to be replaced at the end). The name is reserved
   * here, at the start, by creating its part file exclusively: two downloads that pick the same
   * name at the same moment (the same URL twice) get `name.ext` and `name (1).ext`, never one
   * shared part file.
   */
  private async freeTarget(name: string): Promise<string> {
    const dir = this.rec.targetDir;
    const policy = this.rec.onExisting ?? 'keepBoth';
    try {
      await fs.mkdir(dir, { recursive: true });
      const exact = resolveInside(dir, name);
      if (policy !== 'keepBoth') {
        if (policy === 'skip' && (await exists(exact))) throw this.targetExists(exact);
        if (await this.reserve(exact)) return exact;
      }
      const taken = async (full: string) => (await exists(full)) || !(await this.reserve(full));
      return resolveInside(dir, await nextFreeName(dir, name, taken));
    } catch (error) {
      throw fromFileSystemError(error, `choose a file name in ${dir}`);
    }
  }

  /**
   * Reserves `target` by creating its part file exclusively, after saving that it is about to:
   * a run killed between the two saves (before the record names the file) left an empty part
   * file that the next run takes back, instead of calling it another download's and moving on
   * to `name (1)`. Bytes are written only once `target` is saved, so a leftover of ours is empty.
   */
  private async reserve(target: string): Promise<boolean> {
    if (await this.leftoverReservation(target)) {
      this.logger.info(`${this.tag} taking back ${partPathFor(target)}, reserved by a run that stopped before it named the file`);
      return true;
    }
    if (this.rec.reservingTarget !== target) await this.update({ reservingTarget: target });
    return reservePartFile(target);
  }

  /** The empty part file a run of this download created for `target` and never named. */
  private async leftoverReservation(target: string): Promise<boolean> {
    if (this.rec.reservingTarget !== target) return false;
    return fs.lstat(partPathFor(target)).then(
      (stats) => stats.isFile() && stats.size === 0,
      () => false,
    );
  }

  private targetExists(target: string): TransferError {
    return new TransferError('ERR_TARGET_EXISTS', `${target} already exists`);
  }

  /** Progress event (throttled) and a save by volume; the saver's timer saves by time. */
  private tick(force = false): void {
    this.reportProgress(downloadedBytes(this.rec), this.rec.length, force, this.rec.segments);
    this.saver.noteWritten();
  }

  /**
   * A run stopped between giving the finished part file its final name (a hard link) and saving
   * "completed" left two names of one file. Finish that run: resuming would write into the final
   * file through the part file's name.
   */
  private async finishedInPlace(): Promise<boolean> {
    const target = this.rec.target;
    if (!target || !(await sameFile(partPathFor(target), target))) return false;
    const size = await fileSize(target);
    await this.update({ state: 'completed', lastError: undefined, length: size, segments: [{ start: 0, end: size, done: size }] });
    await removeLeftoverPart(target);
    this.logger.info(`${this.tag} completed: ${target} was already in place (${size} bytes)`);
    return true;
  }

  /**
   * Squares a possibly stale record (globalState is flushed lazily, a kill loses the last save)
   * with the part file before any request. Bytes count only while the file is this generation's
   * and the record vouches for them; a record that is behind keeps the file's extra bytes only
   * when that is provably safe: one segment written in order from byte 0, and a strong validator
   * that the resume's If-Range makes the server check.
   */
  private async reconcile(): Promise<number> {
    if (!this.rec.target) return 0;
    const partPath = partPathFor(this.rec.target);
    const generation = this.rec.generation ?? 0;
    const found = await statPartFile(partPath, generation);
    const claimed = downloadedBytes(this.rec);
    const ours = found !== undefined && (this.rec.partFile === undefined || sameIdentity(this.rec.partFile, found.identity));
    let segments: Segment[];
    if (found && !ours) {
      this.logger.warn(`${this.tag} ${partPath} is not the part file of generation ${generation}: counting none of its bytes`);
      await this.options.guard?.();
      const partFile = await createPartFile(partPath, generation);
      segments = reconcileWithPartSize(this.rec, 0).segments;
      await this.update({ partFile, segments });
    } else {
      const size = found?.size ?? 0;
      // Only one connection writes in order from byte 0. With several, a split made after the last
      // save may have sized the file with a later segment while the bytes before it are holes.
      const oneConnection = (this.rec.connections ?? 1) <= 1;
      const keepUnclaimed = found !== undefined && this.rec.partFile !== undefined && oneConnection && chooseIfRange(this.rec) !== undefined;
      segments = reconcileWithPartSize(this.rec, size, keepUnclaimed).segments;
      const held = segments.reduce((sum, segment) => sum + segment.done, 0);
      if (held !== claimed) {
        this.logger.info(`${this.tag} record said ${claimed} bytes, part file holds ${size}: resuming with ${held}`);
        await this.update({ segments });
      }
    }
    const held = downloadedBytes(this.rec);
    if (this.highWater < held) this.highWater = held;
    return this.rec.segments[0].done;
  }

  /**
   * Opens this generation's part file (cut to `truncateTo`) and records which file it is; only
   * while this run still holds the transfer's claim.
   */
  private async openPart(truncateTo: number): Promise<Awaited<ReturnType<typeof openPartFile>>> {
    await this.options.guard?.();
    const partPath = partPathFor(this.rec.target as string);
    const handle = await openPartFile(partPath, truncateTo);
    try {
      const identity = identityOf(this.rec.generation ?? 0, await handle.stat());
      if (!sameIdentity(identity, this.rec.partFile)) await this.update({ partFile: identity });
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw fromFileSystemError(error, `open ${partPath}`);
    }
    return handle;
  }

  /** A new generation in a new part file: no byte of the old one can be counted again. */
  private async restartFromZero(reason: string, code: TransferErrorCode): Promise<void> {
    this.logger.warn(`${this.tag} restarting from byte 0: ${reason}`);
    // A new part file replaces the old one: only while this run still holds the transfer's claim.
    await this.options.guard?.();
    const generation = (this.rec.generation ?? 0) + 1;
    const partFile = this.rec.target ? await createPartFile(partPathFor(this.rec.target), generation) : undefined;
    this.resetSpeed();
    this.integrity.abandonInOrder();
    await this.update({
      generation,
      partFile,
      restartReason: reason,
      digests: undefined,
      restartCode: code,
      length: undefined,
      etag: undefined,
      lastModified: undefined,
      date: undefined,
      segments: initialSegments(undefined),
    });
  }

  /** Length check, optional checksum, fsync, then an atomic rename that never overwrites. */
  private async finalize(signal: AbortSignal): Promise<void> {
    const target = this.rec.target;
    if (!target) throw new TransferError('ERR_FILE_SYSTEM', 'no target file');
    const partPath = partPathFor(target);
    const size = await fileSize(partPath);
    if (this.rec.length !== undefined && size !== this.rec.length) {
      throw new TransferError('ERR_LENGTH_MISMATCH', `part file holds ${size} bytes, expected ${this.rec.length}`);
    }
    let verified;
    try {
      verified = await this.integrity.verify(partPath, size, signal);
    } catch (error) {
      if (error instanceof TransferError && error.code === 'ERR_CHECKSUM_MISMATCH') {
        // The bytes are not the file the user asked for: keep nothing that could be mistaken for it.
        await fs.rm(partPath, { force: true });
        this.integrity.abandonInOrder();
        await this.update({ segments: initialSegments(undefined), length: undefined, digests: undefined });
      }
      throw error;
    }
    let finalPath: string;
    try {
      const handle = await openNoFollow(partPath, fsConstants.O_RDWR, 'sync');
      await handle.sync();
      await handle.close();
      finalPath = await this.renameWithoutOverwrite(partPath, target);
      await syncDirectory(path.dirname(finalPath));
    } catch (error) {
      if (error instanceof TransferError) throw error;
      throw fromFileSystemError(error, `move ${partPath} into place`);
    }
    // Until the record says "completed", the part file stays a second name of the final file: a
    // run killed in between finds both, recognises its own link and only finishes up.
    await this.update({ state: 'completed', target: finalPath, lastError: undefined, verified: verified.length > 0 ? verified : undefined });
    await removeLeftoverPart(finalPath);
    this.logger.info(`${this.tag} completed: ${finalPath} (${size} bytes)`);
  }

  /**
   * link() fails when the name exists, so no window exists in which another file could be
   * replaced; where hard links are unsupported we fall back to check-then-rename. The part file's
   * own name is removed by the caller once the record says "completed".
   */
  private async renameWithoutOverwrite(partPath: string, target: string): Promise<string> {
    const policy = this.rec.onExisting ?? 'keepBoth';
    if (policy === 'overwrite') {
      await fs.rename(partPath, target);
      return target;
    }
    if (policy === 'skip' && (await exists(target))) throw this.targetExists(target);
    const dir = path.dirname(target);
    let candidate = target;
    for (;;) {
      try {
        await fs.link(partPath, candidate);
        return candidate;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') {
          // Our own link, from a run that stopped before it could record the completion.
          if (await sameFile(partPath, candidate)) return candidate;
          candidate = resolveInside(dir, await nextFreeName(dir, path.basename(target), exists));
          continue;
        }
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV' || code === 'ENOSYS' || code === 'EOPNOTSUPP') {
          if (await exists(candidate)) {
            candidate = resolveInside(dir, await nextFreeName(dir, path.basename(target), exists));
          }
          await fs.rename(partPath, candidate);
          return candidate;
        }
        throw error;
      }
    }
  }

  private get bandwidth(): BandwidthGate {
    return this.options.bandwidth ?? UNLIMITED;
  }
}

/** Removes `<target>.part` when it is only a second name of the finished `target`. */
async function removeLeftoverPart(target: string): Promise<void> {
  const partPath = partPathFor(target);
  if (await sameFile(partPath, target)) await fs.unlink(partPath).catch(() => undefined);
}

/**
 * A download whose record says "completed" (a run stopped after that save, before it tidied up):
 * true when its file is in place, with any leftover second name removed.
 */
export async function finishCompletedDownload(record: DownloadRecord): Promise<boolean> {
  if (record.state !== 'completed' || !record.target || !(await exists(record.target))) return false;
  await removeLeftoverPart(record.target);
  return true;
}

/** A new download record for `url`, saved into `targetDir` (or exactly `target`). */
export function newDownloadRecord(input: {
  id: string;
  url: string;
  targetDir: string;
  target?: string;
  sha256?: string;
  connections?: number;
  onExisting?: ExistingTargetPolicy;
  now: number;
}): DownloadRecord {
  return {
    schemaVersion: 1,
    id: input.id,
    kind: 'download',
    url: input.url,
    targetDir: input.targetDir,
    target: input.target,
    targetFixed: input.target !== undefined ? true : undefined,
    sha256: input.sha256?.toLowerCase(),
    connections: input.connections,
    onExisting: input.onExisting,
    state: 'queued',
    segments: initialSegments(undefined),
    createdAt: input.now,
    updatedAt: input.now,
  };
}
