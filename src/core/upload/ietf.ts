import { TransferError, redactUrl } from '../errors';
import type { HttpHeaders, HttpResponse } from '../http/client';
import { formatSfBoolean, mergeLimits, parseSfBoolean, parseSfCount, parseUploadLimit, type UploadLimits } from './headers';
import { NEWEST_IETF_VERSION, ietfProfile, olderIetfVersion, type IetfProfile } from './ietf-versions';
import {
  goneError,
  noProgressError,
  notResumableError,
  resolveLocation,
  statusError,
  type CreateHooks,
  type InterimInfo,
  type ProtocolUploader,
  type UploadIo,
  type UploadState,
} from './protocol';

/** `Content-Disposition: inline; filename*=UTF-8''...` as the draft recommends for a file name. */
export function contentDispositionFor(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `inline; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Whether a 104 interim response belongs to the interop version we sent (others must be ignored). */
export function isOurUploadResumption(info: InterimInfo, version: number = NEWEST_IETF_VERSION): boolean {
  return info.status === 104 && info.headers.get('upload-draft-interop-version')?.trim() === String(version);
}

/** Statuses with which a server refuses a creation request it does not understand (our version). */
const REFUSALS = new Set([400, 412, 415, 422, 501]);
/** After a 413 without limits we halve requests, but not below this. */
const SMALLEST_REQUEST = 64 * 1024;

/**
 * Resumable Uploads for HTTP (draft-ietf-httpbis-resumable-upload). Creation is "optimistic": the
 * POST already carries the file (or the first `max-append-size` bytes) and the upload URL arrives
 * in a 104 while the body is still flowing, so an upload that is never interrupted costs a single
 * request. Appends are PATCH. Speaks the newest interop version first and steps down when a
 * server refuses it (see ietf-versions.ts); the version that worked is reported to the task.
 */
export class IetfUploader implements ProtocolUploader {
  readonly protocol = 'ietf' as const;
  readonly resumable = true;
  private limits?: UploadLimits;
  private profile: IetfProfile;
  /** Set after a 413 that named no limit: our own cap on request bodies. */
  private cap?: number;

  constructor(
    limits?: UploadLimits,
    private readonly chunkSize?: number,
    version: number = NEWEST_IETF_VERSION,
    /** Whether `version` is known to work (from the record or the endpoint): then never step down. */
    private readonly versionSettled = false,
  ) {
    this.limits = limits;
    this.profile = ietfProfile(version);
  }

  get currentLimits(): UploadLimits | undefined {
    return this.limits;
  }

  get version(): number {
    return this.profile.version;
  }

  /**
   * End of the next request body: the user's chunk size, but never above `max-append-size` (or
   * our cap after a bare 413) nor below `min-append-size` (the last piece may be smaller).
   */
  chunkEnd(offset: number, size: number): number {
    const max = Math.min(this.limits?.maxAppendSize ?? Number.POSITIVE_INFINITY, this.cap ?? Number.POSITIVE_INFINITY);
    const min = Math.min(this.limits?.minAppendSize ?? 0, max);
    const limit = Math.max(min, Math.min(this.chunkSize ?? Number.POSITIVE_INFINITY, max));
    return Math.min(size, offset + Math.max(1, limit));
  }

  private base(): Record<string, string> {
    return { 'upload-draft-interop-version': String(this.profile.version) };
  }

  /** Takes `Upload-Limit` from any response and refuses a file the server will not take. */
  private learnLimits(io: UploadIo, headers: HttpHeaders): void {
    const limits = parseUploadLimit(headers.get('upload-limit'));
    if (!limits) return;
    this.limits = mergeLimits(this.limits, limits);
    this.checkSize(io);
  }

  private checkSize(io: UploadIo): void {
    const max = this.limits?.maxSize;
    if (max !== undefined && io.size > max) {
      throw new TransferError('ERR_HTTP_STATUS', `the file (${io.size} bytes) exceeds the server's max-size of ${max} bytes`, { status: 413 });
    }
    const min = this.limits?.minSize;
    if (min !== undefined && io.size < min) {
      throw new TransferError('ERR_HTTP_STATUS', `the file (${io.size} bytes) is below the server's min-size of ${min} bytes`, { status: 400 });
    }
  }

  /**
   * A 413 to a request of `sent` bytes: the limits it names apply from now on; without any, the
   * next requests are half as big (the draft says to retry smaller). False when nothing smaller
   * is left to try.
   */
  private shrinkAfter413(io: UploadIo, response: HttpResponse, sent: number): boolean {
    this.learnLimits(io, response.headers);
    const named = this.limits?.maxAppendSize;
    if (named !== undefined && named < sent) return true;
    if (sent <= SMALLEST_REQUEST) return false;
    this.cap = Math.max(SMALLEST_REQUEST, Math.floor(sent / 2));
    io.logger.warn(`${io.tag} 413 for ${sent} bytes: retrying with at most ${this.cap} bytes per request`);
    return true;
  }

  private expiresAt(headers: HttpHeaders): number | undefined {
    const maxAge = parseUploadLimit(headers.get('upload-limit'))?.maxAgeSeconds;
    return maxAge === undefined ? undefined : Date.now() + maxAge * 1000;
  }

  /**
   * After a 2xx to a request that completed the upload. From version 9 on, the response's
   * `Upload-Complete: ?0` means the server does not hold it all yet: continue from its offset.
   */
  private afterCompleting(io: UploadIo, headers: HttpHeaders, uploadUrl: string | undefined, sentEnd: number): UploadState {
    const offset = parseSfCount(headers.get('upload-offset')) ?? sentEnd;
    // A server that holds every byte but says ?0 would have us loop: it has what we can send.
    if (this.profile.completeInResponses && parseSfBoolean(headers.get('upload-complete')) === false && uploadUrl && offset < io.size) {
      io.logger.warn(`${io.tag} the server says the upload is not complete yet (offset ${offset})`);
      return { uploadUrl, offset, complete: false, expiresAt: this.expiresAt(headers) };
    }
    return { uploadUrl, offset: io.size, complete: true };
  }

  async create(io: UploadIo, signal: AbortSignal, hooks: CreateHooks): Promise<UploadState> {
    this.checkSize(io);
    for (;;) {
      const outcome = await this.createOnce(io, signal, hooks);
      if (outcome !== 'refused' && outcome !== 'smaller') {
        hooks.onInteropVersion?.(this.profile.version);
        return outcome;
      }
    }
  }

  private async createOnce(io: UploadIo, signal: AbortSignal, hooks: CreateHooks): Promise<UploadState | 'refused' | 'smaller'> {
    const end = this.chunkEnd(0, io.size);
    const complete = end === io.size;
    let uploadUrl: string | undefined;
    let limitError: TransferError | undefined;
    const connection = new AbortController();
    const onAbort = () => connection.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const version = this.profile.version;
    const headers = {
      ...this.base(),
      'upload-complete': formatSfBoolean(complete),
      'upload-length': String(io.size),
      'content-type': 'application/octet-stream',
      'content-disposition': contentDispositionFor(io.filename),
      'content-length': String(end),
    };
    try {
      const response = await io.send(io.endpoint, {
        method: 'POST',
        headers,
        start: 0,
        end,
        signal: connection.signal,
        onInterim: (info) => {
          if (info.status === 104 && !isOurUploadResumption(info, version)) {
            io.logger.debug(`${io.tag} ignored a 104 of interop version ${info.headers.get('upload-draft-interop-version') ?? 'none'} (we sent ${version})`);
            return;
          }
          if (!isOurUploadResumption(info, version)) return;
          const location = resolveLocation(info.headers.get('location'), io.endpoint);
          if (location && !uploadUrl) {
            uploadUrl = location;
            io.logger.info(`${io.tag} 104 Upload Resumption Supported (interop ${version}): ${redactUrl(location)}`);
            hooks.onUploadUrl(location);
            // Accepted: a resume after this very request breaks must speak the same version.
            hooks.onInteropVersion?.(version);
          }
          try {
            this.learnLimits(io, info.headers);
          } catch (error) {
            // The server will not take this file: stop sending it now.
            limitError = error as TransferError;
            connection.abort(limitError);
          }
        },
      });
      response.discard();
      const { status } = response;
      if (status === 413 && !uploadUrl) {
        if (this.shrinkAfter413(io, response, end)) return 'smaller';
        throw statusError(response, 'upload creation at', io.endpoint);
      }
      this.learnLimits(io, response.headers);
      const location = resolveLocation(response.headers.get('location'), response.url);
      if (status >= 200 && status < 300) {
        const resource = uploadUrl ?? location;
        if (complete) return this.afterCompleting(io, response.headers, resource, end);
        if (!resource) throw notResumableError(`${redactUrl(io.endpoint)} took part of the file but named no upload resource`, status);
        if (!uploadUrl) hooks.onUploadUrl(resource);
        const offset = parseSfCount(response.headers.get('upload-offset')) ?? end;
        return { uploadUrl: resource, offset, complete: false, expiresAt: this.expiresAt(response.headers) };
      }
      const older = olderIetfVersion(version);
      if (REFUSALS.has(status) && !uploadUrl && !this.versionSettled && older !== undefined) {
        io.logger.warn(`${io.tag} ${status} to interop version ${version}: trying ${older}`);
        this.profile = ietfProfile(older);
        return 'refused';
      }
      throw statusError(response, 'upload creation at', io.endpoint);
    } catch (error) {
      if (limitError) throw limitError;
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Asks where the upload stands: HEAD (never from a cache), or GET where HEAD is refused (9+). */
  async resume(io: UploadIo, uploadUrl: string, signal: AbortSignal): Promise<UploadState> {
    const ask = { ...this.base(), 'cache-control': 'no-store' };
    let response = await io.request(uploadUrl, 'HEAD', ask, signal);
    response.discard();
    if ((response.status === 405 || response.status === 501) && this.profile.getOnResource) {
      response = await io.request(uploadUrl, 'GET', ask, signal);
      response.discard();
    }
    if (response.status === 404 || response.status === 410) throw goneError(response.status, uploadUrl);
    if (response.status < 200 || response.status >= 300) throw statusError(response, 'the offset lookup at', uploadUrl);
    this.learnLimits(io, response.headers);
    const offset = parseSfCount(response.headers.get('upload-offset'));
    if (offset === undefined) throw new TransferError('ERR_HTTP_STATUS', `${redactUrl(uploadUrl)} reported no valid Upload-Offset`, { status: response.status });
    const length = parseSfCount(response.headers.get('upload-length'));
    if (length !== undefined && length !== io.size) throw goneError(response.status, uploadUrl);
    const complete = parseSfBoolean(response.headers.get('upload-complete')) === true;
    return { uploadUrl, offset, complete, expiresAt: this.expiresAt(response.headers) };
  }

  async append(io: UploadIo, uploadUrl: string, offset: number, signal: AbortSignal): Promise<UploadState> {
    const end = this.chunkEnd(offset, io.size);
    const complete = end === io.size;
    const headers = {
      ...this.base(),
      'content-type': this.profile.appendType,
      'upload-offset': String(offset),
      'upload-complete': formatSfBoolean(complete),
      'content-length': String(end - offset),
    };
    const response = await io.send(uploadUrl, { method: 'PATCH', headers, start: offset, end, signal });
    response.discard();
    const { status } = response;
    if (status === 409) {
      io.logger.warn(`${io.tag} append at ${offset} answered 409 (mismatching offset): asking the server again`);
      return this.resume(io, uploadUrl, signal);
    }
    if (status === 413 && this.shrinkAfter413(io, response, end - offset)) return this.resume(io, uploadUrl, signal);
    if (status === 404 || status === 410) throw goneError(status, uploadUrl);
    if (status < 200 || status >= 300) throw statusError(response, 'PATCH', uploadUrl);
    this.learnLimits(io, response.headers);
    if (complete) return this.afterCompleting(io, response.headers, uploadUrl, end);
    const next = parseSfCount(response.headers.get('upload-offset')) ?? end;
    // Any offset is accepted as the server's truth, but a 2xx that kept nothing is no progress.
    if (next <= offset && end > offset) throw noProgressError('PATCH', uploadUrl, offset, status);
    return { uploadUrl, offset: next, complete: false, expiresAt: this.expiresAt(response.headers) };
  }

  async terminate(io: UploadIo, uploadUrl: string, signal: AbortSignal): Promise<void> {
    const response = await io.request(uploadUrl, 'DELETE', this.base(), signal);
    response.discard();
    io.logger.info(`${io.tag} cancelled upload ${redactUrl(uploadUrl)}: ${response.status}`);
  }
}
