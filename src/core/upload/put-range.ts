import { TransferError, redactUrl } from '../errors';
import { parseContentLength } from '../http/range';
import { formatPutContentRange } from './headers';
import { notResumableError, statusError, type CreateHooks, type ProtocolUploader, type UploadIo, type UploadState } from './protocol';

/** Default bytes per PUT: Apache rolls back an interrupted PUT that created the file, so pieces matter. */
export const PUT_RANGE_CHUNK = 16 * 1024 * 1024;

/**
 * PUT with `Content-Range: bytes a-b/*` (WebDAV servers such as Apache mod_dav). The server keeps no
 * upload state of its own: the length of the target (HEAD) is the offset. The first piece is a
 * plain PUT so that an older, longer file at the target is replaced, never spliced.
 */
export class PutRangeUploader implements ProtocolUploader {
  readonly protocol = 'put-range' as const;
  readonly resumable = true;

  constructor(private readonly chunkSize = PUT_RANGE_CHUNK) {}

  chunkEnd(offset: number, size: number): number {
    return Math.min(size, offset + Math.max(1, this.chunkSize));
  }

  async create(io: UploadIo, signal: AbortSignal, hooks: CreateHooks): Promise<UploadState> {
    const end = this.chunkEnd(0, io.size);
    const response = await io.send(io.endpoint, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(end) },
      start: 0,
      end,
      signal,
    });
    response.discard();
    if (response.status < 200 || response.status >= 300) throw statusError(response, 'PUT', io.endpoint);
    // Only now is the target ours: a resume may trust its length from here on.
    hooks.onUploadUrl(io.endpoint);
    if (end === io.size) return this.verify(io, io.endpoint, signal);
    return { uploadUrl: io.endpoint, offset: end, complete: false };
  }

  async resume(io: UploadIo, uploadUrl: string, signal: AbortSignal): Promise<UploadState> {
    const length = await this.currentLength(io, uploadUrl, signal);
    // A missing target means nothing is stored yet (Apache deletes a file whose creating PUT broke).
    return { uploadUrl, offset: length ?? 0, complete: length === io.size };
  }

  async append(io: UploadIo, uploadUrl: string, offset: number, signal: AbortSignal): Promise<UploadState> {
    if (offset === 0) return this.create(io, signal, { onUploadUrl: () => undefined });
    const end = this.chunkEnd(offset, io.size);
    const response = await io.send(uploadUrl, {
      method: 'PUT',
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': formatPutContentRange(offset, end),
        'content-length': String(end - offset),
      },
      start: offset,
      end,
      signal,
    });
    response.discard();
    const { status } = response;
    if (status === 400 || status === 416 || status === 501) {
      throw notResumableError(`${redactUrl(uploadUrl)} refuses PUT with Content-Range (${status})`, status);
    }
    if (status < 200 || status >= 300) throw statusError(response, 'PUT', uploadUrl);
    if (end === io.size) return this.verify(io, uploadUrl, signal);
    return { uploadUrl, offset: end, complete: false };
  }

  /** After the last piece: the target must be exactly as long as the file. */
  private async verify(io: UploadIo, uploadUrl: string, signal: AbortSignal): Promise<UploadState> {
    const length = await this.currentLength(io, uploadUrl, signal);
    if (length === io.size) return { uploadUrl, offset: length, complete: true };
    if (length === undefined || length < io.size) {
      throw notResumableError(
        `after the last piece ${redactUrl(uploadUrl)} holds ${length ?? 'no'} bytes instead of ${io.size}: the server ignores Content-Range`,
      );
    }
    return { uploadUrl, offset: length, complete: false };
  }

  /** Length of the target, or undefined when it does not exist. */
  private async currentLength(io: UploadIo, uploadUrl: string, signal: AbortSignal): Promise<number | undefined> {
    const response = await io.request(uploadUrl, 'HEAD', { 'cache-control': 'no-cache' }, signal);
    response.discard();
    if (response.status === 404 || response.status === 410) return undefined;
    if (response.status < 200 || response.status >= 300) throw statusError(response, 'HEAD', uploadUrl);
    const length = parseContentLength(response.headers.get('content-length'));
    if (length === undefined) throw new TransferError('ERR_HTTP_STATUS', `HEAD ${redactUrl(uploadUrl)} gave no Content-Length`, { status: response.status });
    return length;
  }

  async terminate(): Promise<void> {
    // The target is the user's file name on the server, not a temporary resource: leave it.
  }
}
