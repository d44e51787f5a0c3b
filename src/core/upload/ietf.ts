import { TransferError, redactUrl } from '../errors';
import type { HttpHeaders } from '../http/client';
import {
  IETF_INTEROP_VERSION,
  PARTIAL_UPLOAD_TYPE,
  formatSfBoolean,
  mergeLimits,
  parseSfBoolean,
  parseSfCount,
  parseUploadLimit,
  type UploadLimits,
} from './headers';
import {
  goneError,
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

/** Whether a 104 interim response belongs to our interop version (others must be ignored). */
export function isOurUploadResumption(info: InterimInfo): boolean {
  return info.status === 104 && info.headers.get('upload-draft-interop-version')?.trim() === String(IETF_INTEROP_VERSION);
}

/**
 * Resumable Uploads for HTTP (draft-ietf-httpbis-resumable-upload, interop version 8). Creation is
 * "optimistic": the POST already carries the file (or the first `max-append-size` bytes) and the
 * upload URL arrives in a 104 while the body is still flowing, so an upload that is never
 * interrupted costs a single request. Appends are PATCH with `application/partial-upload`.
 */
export class IetfUploader implements ProtocolUploader {
  readonly protocol = 'ietf' as const;
  readonly resumable = true;
  private limits?: UploadLimits;

  constructor(limits?: UploadLimits, private readonly chunkSize?: number) {
    this.limits = limits;
  }

  get currentLimits(): UploadLimits | undefined {
    return this.limits;
  }

  /**
   * End of the next request body: the user's chunk size, but never above `max-append-size` nor
   * below `min-append-size` (the last piece, which completes the upload, may be smaller).
   */
  chunkEnd(offset: number, size: number): number {
    const max = this.limits?.maxAppendSize ?? Number.POSITIVE_INFINITY;
    const min = Math.min(this.limits?.minAppendSize ?? 0, max);
    const limit = Math.max(min, Math.min(this.chunkSize ?? Number.POSITIVE_INFINITY, max));
    return Math.min(size, offset + Math.max(1, limit));
  }

  private base(): Record<string, string> {
    return { 'upload-draft-interop-version': String(IETF_INTEROP_VERSION) };
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

  private expiresAt(headers: HttpHeaders): number | undefined {
    const maxAge = parseUploadLimit(headers.get('upload-limit'))?.maxAgeSeconds;
    return maxAge === undefined ? undefined : Date.now() + maxAge * 1000;
  }

  async create(io: UploadIo, signal: AbortSignal, hooks: CreateHooks): Promise<UploadState> {
    this.checkSize(io);
    const end = this.chunkEnd(0, io.size);
    const complete = end === io.size;
    let uploadUrl: string | undefined;
    let limitError: TransferError | undefined;
    const connection = new AbortController();
    const onAbort = () => connection.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
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
          if (!isOurUploadResumption(info)) return;
          const location = resolveLocation(info.headers.get('location'), io.endpoint);
          if (location && !uploadUrl) {
            uploadUrl = location;
            io.logger.info(`${io.tag} 104 Upload Resumption Supported: ${redactUrl(location)}`);
            hooks.onUploadUrl(location);
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
      this.learnLimits(io, response.headers);
      const { status } = response;
      const location = resolveLocation(response.headers.get('location'), response.url);
      if (status >= 200 && status < 300) {
        if (complete) return { uploadUrl: uploadUrl ?? location, offset: io.size, complete: true };
        const resource = uploadUrl ?? location;
        if (!resource) throw notResumableError(`${redactUrl(io.endpoint)} took part of the file but named no upload resource`, status);
        if (!uploadUrl) hooks.onUploadUrl(resource);
        const offset = parseSfCount(response.headers.get('upload-offset')) ?? end;
        return { uploadUrl: resource, offset, complete: false, expiresAt: this.expiresAt(response.headers) };
      }
      throw statusError(response, 'upload creation at', io.endpoint);
    } catch (error) {
      if (limitError) throw limitError;
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async resume(io: UploadIo, uploadUrl: string, signal: AbortSignal): Promise<UploadState> {
    const response = await io.request(uploadUrl, 'HEAD', this.base(), signal);
    response.discard();
    if (response.status === 404 || response.status === 410) throw goneError(response.status, uploadUrl);
    if (response.status < 200 || response.status >= 300) throw statusError(response, 'HEAD', uploadUrl);
    this.learnLimits(io, response.headers);
    const offset = parseSfCount(response.headers.get('upload-offset'));
    if (offset === undefined) throw new TransferError('ERR_HTTP_STATUS', `HEAD ${redactUrl(uploadUrl)} has no valid Upload-Offset`, { status: response.status });
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
      'content-type': PARTIAL_UPLOAD_TYPE,
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
    if (status === 404 || status === 410) throw goneError(status, uploadUrl);
    if (status < 200 || status >= 300) throw statusError(response, 'PATCH', uploadUrl);
    this.learnLimits(io, response.headers);
    if (complete) return { uploadUrl, offset: io.size, complete: true };
    const next = parseSfCount(response.headers.get('upload-offset')) ?? end;
    return { uploadUrl, offset: next, complete: false, expiresAt: this.expiresAt(response.headers) };
  }

  async terminate(io: UploadIo, uploadUrl: string, signal: AbortSignal): Promise<void> {
    const response = await io.request(uploadUrl, 'DELETE', this.base(), signal);
    response.discard();
    io.logger.info(`${io.tag} cancelled upload ${redactUrl(uploadUrl)}: ${response.status}`);
  }
}
