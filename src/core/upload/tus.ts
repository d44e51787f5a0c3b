import { TransferError, redactUrl } from '../errors';
import type { HttpResponse } from '../http/client';
import {
  TUS_PATCH_TYPE,
  TUS_VERSION,
  encodeUploadMetadata,
  formatUploadChecksum,
  parseCount,
  parseUploadExpires,
} from './headers';
import type { EndpointCapabilities } from './detect';
import {
  goneError,
  noProgressError,
  notResumableError,
  resolveLocation,
  statusError,
  type CreateHooks,
  type ProtocolUploader,
  type UploadIo,
  type UploadState,
} from './protocol';

/** PATCH size when every chunk carries a checksum (the digest is computed before sending). */
export const TUS_CHECKSUM_CHUNK = 32 * 1024 * 1024;

/**
 * tus 1.0 (creation, HEAD for the offset, PATCH, optional checksum and termination). Without a
 * checksum the rest of the file goes in one PATCH: each extra request costs a round trip and, on
 * @tus/server, a lock and a file open, and the server keeps every byte of an interrupted PATCH
 * anyway, so large requests lose nothing on a failure.
 */
export class TusUploader implements ProtocolUploader {
  readonly protocol = 'tus' as const;
  readonly resumable = true;
  private readonly checksum?: string;
  private readonly termination: boolean;

  constructor(capabilities: Partial<EndpointCapabilities> = {}, private readonly chunkSize?: number) {
    const extensions = capabilities.tusExtensions ?? [];
    if (extensions.includes('checksum') && (capabilities.tusChecksumAlgorithms ?? []).includes('sha1')) this.checksum = 'sha1';
    this.termination = extensions.includes('termination');
  }

  /** Bytes per PATCH: the user's choice, else a checksum-sized chunk, else the whole remainder. */
  chunkEnd(offset: number, size: number): number {
    const limit = this.chunkSize ?? (this.checksum ? TUS_CHECKSUM_CHUNK : Number.POSITIVE_INFINITY);
    return Math.min(size, offset + limit);
  }

  private base(): Record<string, string> {
    return { 'tus-resumable': TUS_VERSION };
  }

  async create(io: UploadIo, signal: AbortSignal, hooks: CreateHooks): Promise<UploadState> {
    const headers = {
      ...this.base(),
      'upload-length': String(io.size),
      'upload-metadata': encodeUploadMetadata({ filename: io.filename }),
      'content-length': '0',
    };
    const response = await io.request(io.endpoint, 'POST', headers, signal);
    response.discard();
    if (response.status === 405 || response.status === 501) {
      throw notResumableError(`${redactUrl(io.endpoint)} does not accept tus uploads (${response.status})`, response.status);
    }
    if (response.status !== 201 && response.status !== 200) throw statusError(response, 'tus creation at', io.endpoint);
    const uploadUrl = resolveLocation(response.headers.get('location'), response.url);
    if (!uploadUrl) throw notResumableError(`tus creation at ${redactUrl(io.endpoint)} returned no Location`, response.status);
    hooks.onUploadUrl(uploadUrl);
    io.logger.info(`${io.tag} tus upload created: ${redactUrl(uploadUrl)}`);
    return { uploadUrl, offset: 0, complete: io.size === 0, expiresAt: parseUploadExpires(response.headers.get('upload-expires')) };
  }

  async resume(io: UploadIo, uploadUrl: string, signal: AbortSignal): Promise<UploadState> {
    // @tus/server answers a HEAD only once a dead PATCH released the upload's lock (a few seconds):
    // the response timeout of the HTTP client is far longer, so we simply wait.
    const response = await io.request(uploadUrl, 'HEAD', { ...this.base(), 'cache-control': 'no-store' }, signal);
    response.discard();
    if (response.status === 404 || response.status === 410) throw goneError(response.status, uploadUrl);
    if (response.status < 200 || response.status >= 300) throw statusError(response, 'HEAD', uploadUrl);
    const offset = parseCount(response.headers.get('upload-offset'));
    if (offset === undefined) throw new TransferError('ERR_HTTP_STATUS', `HEAD ${redactUrl(uploadUrl)} has no valid Upload-Offset`, { status: response.status });
    const length = parseCount(response.headers.get('upload-length'));
    if (length !== undefined && length !== io.size) {
      // Not our file's upload (a record pointing at someone else's): start a new one.
      throw goneError(response.status, uploadUrl);
    }
    return { uploadUrl, offset, complete: offset === io.size, expiresAt: parseUploadExpires(response.headers.get('upload-expires')) };
  }

  async append(io: UploadIo, uploadUrl: string, offset: number, signal: AbortSignal): Promise<UploadState> {
    const end = this.chunkEnd(offset, io.size);
    const headers: Record<string, string> = {
      ...this.base(),
      'upload-offset': String(offset),
      'content-type': TUS_PATCH_TYPE,
      'content-length': String(end - offset),
    };
    if (this.checksum) headers['upload-checksum'] = formatUploadChecksum(this.checksum, await io.digest(this.checksum, offset, end, signal));
    const response = await io.send(uploadUrl, { method: 'PATCH', headers, start: offset, end, signal });
    response.discard();
    return this.afterPatch(io, uploadUrl, offset, end, response, signal);
  }

  private async afterPatch(io: UploadIo, uploadUrl: string, offset: number, end: number, response: HttpResponse, signal: AbortSignal): Promise<UploadState> {
    const { status } = response;
    if (status === 409) {
      // Offset mismatch: the server is the truth, ask it again.
      io.logger.warn(`${io.tag} tus PATCH at ${offset} answered 409: asking the server for its offset`);
      return this.resume(io, uploadUrl, signal);
    }
    if (status === 404 || status === 410) throw goneError(status, uploadUrl);
    if (status === 460) {
      // Checksum mismatch: the bytes were damaged on the way and discarded; sending them again may work.
      throw new TransferError('ERR_NETWORK', `the server rejected the checksum of bytes ${offset}-${end - 1} (460)`, { status });
    }
    if (status < 200 || status >= 300) throw statusError(response, 'PATCH', uploadUrl);
    const next = parseCount(response.headers.get('upload-offset'));
    if (next === undefined || next < offset || next > end) {
      throw new TransferError('ERR_HTTP_STATUS', `PATCH ${redactUrl(uploadUrl)} answered an invalid Upload-Offset "${response.headers.get('upload-offset') ?? ''}"`, { status });
    }
    // tus allows an equal offset (nothing kept); taking it as success would send the chunk forever.
    if (next === offset && end > offset) throw noProgressError('PATCH', uploadUrl, offset, status);
    return { uploadUrl, offset: next, complete: next === io.size, expiresAt: parseUploadExpires(response.headers.get('upload-expires')) };
  }

  async terminate(io: UploadIo, uploadUrl: string, signal: AbortSignal): Promise<void> {
    if (!this.termination) return;
    const response = await io.request(uploadUrl, 'DELETE', this.base(), signal);
    response.discard();
    io.logger.info(`${io.tag} tus termination of ${redactUrl(uploadUrl)}: ${response.status}`);
  }
}
