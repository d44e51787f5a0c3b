import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { UNLIMITED, passGate, type BandwidthGate } from '../bandwidth/limits';
import type { IetfVersionMemory } from './ietf-versions';
import { IETF_INTEROP_VERSION } from './headers';
import * as path from 'node:path';
import { Readable, Transform, pipeline } from 'node:stream';
import { AbortError, TransferError, abortReasonOf, fromFileSystemError, redactUrl, throwIfAborted, type TransferErrorCode } from '../errors';
import { networkError, type HttpClient, type HttpResponse, type OriginHeaders } from '../http/client';
import type { UploadFingerprint, UploadRecord } from '../state/record';
import type { TransferStore } from '../state/store';
import { RestartNeeded } from '../transfer/restart';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../transfer/retry';
import type { TransferProgress, TransferRunner } from '../transfer/runner';
import { RunnerBase, type RunnerBaseOptions, type TransferRetryEvent } from '../transfer/runner-base';
import { detectEndpoint, probeHeaders, classifyEndpoint, type EndpointCapabilities } from './detect';
import { putTargetFor } from './webdav-folder';
import { fingerprintChange, fingerprintFile } from './fingerprint';
import { IetfUploader } from './ietf';
import { PlainPutUploader } from './plain-put';
import {
  isUploadProtocol,
  notResumableError,
  type CreateHooks,
  type ProtocolUploader,
  type SendOptions,
  type UploadIo,
  type UploadProtocol,
  type UploadProtocolChoice,
  type UploadState,
} from './protocol';
import { PutRangeUploader } from './put-range';
import { TusUploader } from './tus';

export type UploadProgress = TransferProgress;

export type UploadRetryEvent = TransferRetryEvent;

export interface UploadOptions extends RunnerBaseOptions {
  http: HttpClient;
  retry?: RetryPolicy;
  /** No body bytes accepted for this long aborts the request and resumes (default 30 s). */
  stallTimeoutMs?: number;
  /** Wait for the response once the body is sent (default 60 s). */
  responseTimeoutMs?: number;
  /** How often the record is saved while bytes flow (default 1 s). */
  persistIntervalMs?: number;
  /** The user's headers for an origin (credentials); asked for on every request, never persisted. */
  headers?: OriginHeaders;
  /** Refuse endpoints that can only take a plain PUT (ERR_UPLOAD_NOT_RESUMABLE). Default: use it. */
  requireResumable?: boolean;
  /** A local file that changed since the upload began: start over (default) or fail with ERR_FILE_CHANGED. */
  onFileChanged?: 'restart' | 'fail';
  /** Which IETF interop version each endpoint accepted (default: none remembered beyond the record). */
  ietfVersions?: IetfVersionMemory;
  /** Speed limits this upload's bytes pass through (default: none). */
  bandwidth?: BandwidthGate;
}

const READ_CHUNK = 1024 * 1024;
/** Under a speed limit a read is sent in pieces this big, so the rate stays smooth. */
const LIMITED_PIECE = 64 * 1024;
/** Time allowed for a termination request on cancel. */
const TERMINATE_TIMEOUT_MS = 5_000;

/** Builds the protocol implementation for a known protocol. */
export function createUploader(
  protocol: UploadProtocol,
  capabilities: Partial<EndpointCapabilities> = {},
  chunkSize?: number,
  /** IETF: the interop version to start with, and whether it is known to work (no stepping down). */
  ietf?: { version: number; settled: boolean },
): ProtocolUploader {
  switch (protocol) {
    case 'tus':
      return new TusUploader(capabilities, chunkSize);
    case 'ietf':
      return new IetfUploader(capabilities.limits, chunkSize, ietf?.version ?? capabilities.interopVersion, ietf?.settled);
    case 'put-range':
      return new PutRangeUploader(chunkSize);
    case 'put':
      return new PlainPutUploader();
  }
}

/**
 * Uploads one local file to one endpoint with whichever protocol the endpoint speaks (detected
 * once and kept in the record, or forced by the user). One failure funnel decides retry, restart
 * or failure; the server's offset is the truth after every interruption; the record (saved through
 * the store) is all it needs to continue after a reload or a crash.
 *
 * Progress counts the bytes the server confirmed plus those handed to the connection in the
 * request under way (a single PATCH may carry gigabytes; the bar must move). The saved `offset` is
 * only ever what the server confirmed.
 */
export class UploadTask extends RunnerBase<UploadRecord> implements TransferRunner {
  private uploader?: ProtocolUploader;
  /** For PUT protocols: the file's URL when the endpoint is a folder (see webdav-folder.ts). */
  private putTarget?: string;
  private lastPersist = 0;
  /** Bytes handed to the connection by the request under way, and where that request started. */
  private inFlight = { start: 0, sent: 0 };

  constructor(record: UploadRecord, private readonly options: UploadOptions) {
    super(record, options);
  }

  /** False once the upload is known to go through a plain PUT (the UI shows "cannot resume"). */
  get resumable(): boolean | undefined {
    return this.rec.resumable;
  }

  /**
   * Runs until the server has the whole file (resolves with the completed record), fails for good
   * (rejects with a TransferError; the record stays, saved as failed, and can be resumed) or
   * `signal` aborts (rejects with an AbortError; on cancel the server-side upload is terminated).
   */
  async run(signal: AbortSignal): Promise<UploadRecord> {
    const policy = this.options.retry ?? DEFAULT_RETRY_POLICY;
    await this.update({ state: 'running', lastError: undefined });
    this.logger.info(`${this.tag} upload ${this.rec.source} → ${redactUrl(this.rec.url)}`);
    return this.runAttempts(signal, policy, {
      attempt: () => this.attempt(signal),
      classify: async (caught) => this.classify(caught, signal),
      saved: () => this.rec.offset,
      restart: (why) => this.restartFromZero(why.reason, why.code ?? 'ERR_UPLOAD_GONE', signal),
      stopped: (error) => this.stopped(error),
    });
  }

  private classify(caught: unknown, signal: AbortSignal): TransferError | RestartNeeded {
    if (caught instanceof RestartNeeded) return caught;
    if (signal.aborted) return new AbortError(abortReasonOf(signal));
    if (caught instanceof TransferError) {
      if (caught.code === 'ERR_UPLOAD_GONE') return new RestartNeeded(caught.message, 'ERR_UPLOAD_GONE');
      return caught;
    }
    return networkError(caught, this.rec.url, signal);
  }

  /** One pass: check the file, learn the protocol, ask or create, then append until complete. */
  private async attempt(signal: AbortSignal): Promise<void> {
    await this.checkSource();
    const uploader = await this.uploaderFor(signal);
    const io = this.io();
    let state: UploadState;
    if (this.rec.uploadUrl && uploader.resumable) {
      state = await uploader.resume(io, this.rec.uploadUrl, signal);
      this.logger.info(`${this.tag} server has ${state.offset} of ${this.size} bytes${state.complete ? ' (complete)' : ''}`);
    } else {
      state = await uploader.create(io, signal, this.createHooks());
    }
    await this.confirm(state);
    while (!state.complete) {
      throwIfAborted(signal);
      if (this.uploader !== uploader) return this.attempt(signal);
      const uploadUrl = state.uploadUrl ?? this.rec.uploadUrl;
      if (!uploadUrl) throw notResumableError(`${redactUrl(this.rec.url)} gave no upload URL to continue with`);
      state = await uploader.append(io, uploadUrl, state.offset, signal);
      await this.confirm(state);
    }
    // Bytes read while the file was being rewritten are not the file: check once more.
    await this.checkSource();
    await this.update({ state: 'completed', offset: this.size, lastError: undefined });
    this.logger.info(`${this.tag} completed: ${this.size} bytes via ${uploader.protocol}${this.rec.uploadUrl ? ` at ${redactUrl(this.rec.uploadUrl)}` : ''}`);
  }

  private createHooks(): CreateHooks {
    return {
      onUploadUrl: (url) => {
        // Saved at once: a crash during the creating request can then resume.
        this.keeper.patchSoon({ uploadUrl: url });
      },
      onUpgrade: (protocol, url) => {
        this.uploader = createUploader(protocol, {}, this.rec.chunkSize, { version: IETF_INTEROP_VERSION, settled: true });
        this.keeper.patchSoon({ protocol, uploadUrl: url, resumable: true, interopVersion: IETF_INTEROP_VERSION });
      },
      onInteropVersion: (version) => {
        this.options.ietfVersions?.remember(this.rec.url, version);
        if (this.rec.interopVersion !== version) this.keeper.patchSoon({ interopVersion: version });
      },
    };
  }

  /** Takes over what the server confirmed. */
  private async confirm(state: UploadState): Promise<void> {
    if (state.offset > this.size) {
      throw new RestartNeeded(`the server holds ${state.offset} bytes, more than the file's ${this.size}`, 'ERR_UPLOAD_GONE');
    }
    this.inFlight = { start: state.offset, sent: 0 };
    await this.update({ offset: state.offset, uploadUrl: state.uploadUrl ?? this.rec.uploadUrl, expiresAt: state.expiresAt ?? this.rec.expiresAt });
    this.tick(true);
  }

  /** The uploader for the record's protocol; detects it (OPTIONS) the first time. */
  private async uploaderFor(signal: AbortSignal): Promise<ProtocolUploader> {
    if (this.uploader) return this.uploader;
    let capabilities: Partial<EndpointCapabilities> = {};
    let protocol = isUploadProtocol(this.rec.protocol) ? this.rec.protocol : undefined;
    if (!protocol) {
      const detected = await detectEndpoint(this.io(), signal);
      this.logger.info(`${this.tag} protocol ${detected.protocol} (${detected.evidence})`);
      capabilities = detected;
      protocol = detected.protocol;
    } else if (protocol === 'tus' || protocol === 'ietf') {
      capabilities = await this.probe(protocol, signal);
    }
    if (protocol === 'put' || protocol === 'put-range') {
      this.putTarget = await putTargetFor(this.io(), protocol === 'put-range' || capabilities.webDav === true, signal);
      if (this.putTarget !== this.rec.url && !isUploadProtocol(this.rec.protocol)) {
        // The folder said what it is; the file inside it may say otherwise (Apache allows PUT there only).
        const detected = await detectEndpoint(this.io(), signal);
        this.logger.info(`${this.tag} protocol ${detected.protocol} for the file (${detected.evidence})`);
        capabilities = detected;
        protocol = detected.protocol;
      }
    }
    if (protocol === 'put') {
      if (this.options.requireResumable) throw notResumableError(`${redactUrl(this.rec.url)} cannot resume uploads (no tus, IETF draft or WebDAV)`);
      this.logger.warn(`${this.tag} ${redactUrl(this.rec.url)} cannot resume uploads: sending the whole file in one PUT`);
    }
    this.uploader = createUploader(protocol, capabilities, this.rec.chunkSize, this.ietfStart(capabilities));
    if (this.rec.protocol !== protocol || this.rec.resumable !== this.uploader.resumable) {
      await this.update({ protocol, resumable: this.uploader.resumable });
    }
    return this.uploader;
  }

  /**
   * The IETF interop version to speak: the one this upload was created with (settled), else the
   * one the endpoint accepted last time or announced, else the newest (may step down).
   */
  private ietfStart(capabilities: Partial<EndpointCapabilities>): { version: number; settled: boolean } {
    if (this.rec.uploadUrl) {
      // Records saved before versions were kept were created with 8, the only one spoken then.
      return { version: this.rec.interopVersion ?? 8, settled: true };
    }
    const remembered = this.options.ietfVersions?.get(this.rec.url);
    return { version: remembered ?? capabilities.interopVersion ?? IETF_INTEROP_VERSION, settled: false };
  }

  /** Extensions (tus) or limits (IETF) of an endpoint whose protocol is already known. */
  private async probe(protocol: UploadProtocol, signal: AbortSignal): Promise<Partial<EndpointCapabilities>> {
    const response = await this.io().request(this.rec.url, 'OPTIONS', probeHeaders(), signal);
    response.discard();
    const found = classifyEndpoint(response.status, response.headers);
    if (found.protocol !== protocol) {
      this.logger.debug(`${this.tag} OPTIONS suggests ${found.protocol} (${found.evidence}); keeping ${protocol}`);
      return {};
    }
    return found;
  }

  private get size(): number {
    return this.rec.fingerprint.size;
  }

  /** The local file must be the one the upload began with. */
  private async checkSource(): Promise<void> {
    const current: UploadFingerprint = await fingerprintFile(this.rec.source);
    const change = fingerprintChange(this.rec.fingerprint, current);
    if (!change) return;
    if (!this.rec.uploadUrl && this.rec.offset === 0) {
      // Nothing sent yet: just take the file as it is now.
      await this.update({ fingerprint: current, length: current.size });
      return;
    }
    if (this.options.onFileChanged === 'fail') {
      throw new TransferError('ERR_FILE_CHANGED', `${change}; the bytes already uploaded belong to the old content`);
    }
    throw new RestartNeeded(change, 'ERR_FILE_CHANGED');
  }

  private async restartFromZero(reason: string, code: TransferErrorCode, signal: AbortSignal): Promise<void> {
    this.logger.warn(`${this.tag} restarting the upload from byte 0: ${reason}`);
    if (code === 'ERR_FILE_CHANGED') await this.terminateQuietly(signal);
    const fingerprint = await fingerprintFile(this.rec.source);
    this.resetSpeed();
    await this.update({
      uploadUrl: undefined,
      offset: 0,
      expiresAt: undefined,
      fingerprint,
      length: fingerprint.size,
      restartReason: reason,
      restartCode: code,
    });
  }

  /** Best effort, bounded in time: the server may drop the upload we give up on. */
  private async terminateQuietly(signal?: AbortSignal): Promise<void> {
    const uploadUrl = this.rec.uploadUrl;
    if (!uploadUrl || this.rec.resumable === false) return;
    const timeout = AbortSignal.timeout(TERMINATE_TIMEOUT_MS);
    const combined = signal && !signal.aborted ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      // Not yet built when the file changed before the first request of this run.
      const uploader = this.uploader ?? (await this.uploaderFor(combined));
      await uploader.terminate(this.io(), uploadUrl, combined);
    } catch (error) {
      this.logger.debug(`${this.tag} could not terminate ${redactUrl(uploadUrl)}: ${String(error)}`);
    }
  }

  /**
   * For a transfer cancelled or removed while it was not running: tells the server to drop the
   * upload (tus termination, IETF DELETE; best effort, bounded in time) and forgets its URL, so that
   * a later resume starts a new upload. The state is left to the caller.
   */
  async discard(): Promise<void> {
    await this.terminateQuietly();
    await this.update({ uploadUrl: undefined, offset: 0, expiresAt: undefined });
  }

  private async stopped(error: AbortError): Promise<never> {
    await this.settle();
    if (error.reason === 'cancel') {
      await this.terminateQuietly();
      await this.update({ state: 'cancelled', uploadUrl: undefined, offset: 0, expiresAt: undefined });
    } else if (error.reason === 'pause') {
      await this.update({ state: 'paused' });
    }
    this.logger.info(`${this.tag} stopped (${error.reason}) at ${this.rec.offset} bytes`);
    throw error;
  }

  // ---- what the protocols see ----------------------------------------------------------------

  private io(): UploadIo {
    return {
      endpoint: this.putTarget ?? this.rec.url,
      size: this.size,
      filename: path.basename(this.rec.source),
      logger: this.logger,
      tag: this.tag,
      request: (url, method, headers, signal) => this.request(url, method, headers, signal),
      send: (url, options) => this.send(url, options),
      digest: (algorithm, start, end, signal) => this.digest(algorithm, start, end, signal),
    };
  }

  private async request(url: string, method: string, headers: Record<string, string>, signal: AbortSignal): Promise<HttpResponse> {
    throwIfAborted(signal);
    this.logger.debug(`${this.tag} ${method} ${redactUrl(url)}`);
    return this.options.http.request(url, {
      method,
      headers,
      originHeaders: this.options.headers,
      signal,
      // A creation POST must not turn into a GET on a 302; only questions may follow redirects.
      followRedirects: method === 'OPTIONS' || method === 'HEAD',
    });
  }

  /**
   * Sends bytes [start, end) of the file as the request body. A watchdog aborts the request when
   * the connection takes no bytes for `stallTimeoutMs`, or no response arrives within
   * `responseTimeoutMs` after the last byte: both become retryable errors.
   */
  private async send(url: string, options: SendOptions): Promise<HttpResponse> {
    const { start, end, signal } = options;
    throwIfAborted(signal);
    const stallMs = this.options.stallTimeoutMs ?? 30_000;
    const responseMs = this.options.responseTimeoutMs ?? 60_000;
    const connection = new AbortController();
    const onAbort = () => connection.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let fired: 'stall' | 'timeout' | undefined;
    let timer: NodeJS.Timeout | undefined;
    const arm = (kind: 'stall' | 'timeout', ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        fired = kind;
        connection.abort(new AbortError(kind));
      }, ms);
    };
    this.inFlight = { start, sent: 0 };
    const bandwidth = this.options.bandwidth ?? UNLIMITED;
    const watchdog = { stop: () => clearTimeout(timer), arm: () => arm('stall', stallMs) };
    const pass = (piece: Buffer) => {
      this.inFlight.sent += piece.length;
      arm('stall', stallMs);
      this.tick();
    };
    const counter = new Transform({
      highWaterMark: READ_CHUNK,
      transform: (chunk: Buffer, _encoding, callback) => {
        if (!bandwidth.limited) {
          pass(chunk);
          return callback(null, chunk);
        }
        void (async () => {
          for (let at = 0; at < chunk.length; at += LIMITED_PIECE) {
            const piece = chunk.subarray(at, at + LIMITED_PIECE);
            await passGate(bandwidth, piece.length, connection.signal, watchdog);
            pass(piece);
            counter.push(piece);
          }
        })().then(() => callback(), (error: unknown) => callback(error as Error));
      },
    });
    counter.once('end', () => arm('timeout', responseMs));
    const body = end > start ? this.fileSlice(start, end, counter) : Readable.from([]);
    if (end <= start) body.once('end', () => arm('timeout', responseMs));
    this.logger.debug(`${this.tag} ${options.method} ${redactUrl(url)} bytes ${start}-${end}`);
    arm('stall', stallMs);
    try {
      return await this.options.http.request(url, {
        method: options.method,
        headers: options.headers,
        originHeaders: this.options.headers,
        onInterim: options.onInterim,
        body,
        signal: connection.signal,
        followRedirects: false,
        responseTimeoutMs: 0,
      });
    } catch (error) {
      if (fired && !signal.aborted) {
        throw fired === 'stall'
          ? new TransferError('ERR_STALLED', `the server took no data for ${Math.round(stallMs / 1000)} s`, { cause: error })
          : new TransferError('ERR_RESPONSE_TIMEOUT', `no response within ${Math.round(responseMs / 1000)} s after the upload body`, { cause: error });
      }
      throw error instanceof TransferError ? error : networkError(error, url, signal);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      body.destroy();
      this.tick(true);
    }
  }

  /** The file's bytes [start, end) flowing through `counter` (which counts and feeds the watchdog). */
  private fileSlice(start: number, end: number, counter: Transform): Readable {
    const file = createReadStream(this.rec.source, { start, end: end - 1, highWaterMark: READ_CHUNK });
    pipeline(file, counter, (error) => {
      if (error && !counter.destroyed) counter.destroy(fromFileSystemError(error, `read ${this.rec.source}`));
    });
    return counter;
  }

  private async digest(algorithm: string, start: number, end: number, signal: AbortSignal): Promise<Buffer> {
    const hash = createHash(algorithm);
    if (end > start) {
      try {
        for await (const chunk of createReadStream(this.rec.source, { start, end: end - 1, highWaterMark: READ_CHUNK, signal })) {
          hash.update(chunk as Buffer);
        }
      } catch (error) {
        if (signal.aborted) throw new AbortError(abortReasonOf(signal));
        throw fromFileSystemError(error, `read ${this.rec.source}`);
      }
    }
    return hash.digest();
  }

  // ---- progress and persistence ----------------------------------------------------------------

  private tick(force = false): void {
    const now = this.clock.now();
    const bytes = Math.min(this.size, Math.max(this.rec.offset, this.inFlight.start + this.inFlight.sent));
    this.reportProgress(bytes, this.size, force);
    if (!force && now - this.lastPersist >= (this.options.persistIntervalMs ?? 1000)) {
      this.lastPersist = now;
      this.keeper.saveSoon();
    }
  }
}

/** A new upload record. `protocol` 'auto' (or undefined) means: detect on the first run. */
export function newUploadRecord(input: {
  id: string;
  url: string;
  fingerprint: UploadFingerprint;
  protocol?: UploadProtocolChoice;
  chunkSize?: number;
  now: number;
}): UploadRecord {
  const protocol = input.protocol === 'auto' ? undefined : input.protocol;
  return {
    schemaVersion: 1,
    id: input.id,
    kind: 'upload',
    url: input.url,
    source: input.fingerprint.path,
    fingerprint: input.fingerprint,
    protocol,
    resumable: protocol === undefined ? undefined : protocol !== 'put',
    offset: 0,
    length: input.fingerprint.size,
    chunkSize: input.chunkSize,
    state: 'queued',
    createdAt: input.now,
    updatedAt: input.now,
  };
}

/** Stats `file` and builds its new upload record. */
export async function createUploadRecord(input: {
  id: string;
  url: string;
  file: string;
  protocol?: UploadProtocolChoice;
  chunkSize?: number;
  now: number;
}): Promise<UploadRecord> {
  return newUploadRecord({ ...input, fingerprint: await fingerprintFile(input.file) });
}

/** The manager's runner factory for upload records (a UI passes this, with its own options). */
export function uploadRunnerFactory(options: Omit<UploadOptions, 'store'>) {
  return (record: UploadRecord, context: { store: TransferStore }): UploadTask => new UploadTask(record, { ...options, store: context.store });
}
