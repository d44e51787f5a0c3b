import { redactUrl } from '../errors';
import { IETF_INTEROP_VERSION, formatSfBoolean } from './headers';
import { isOurUploadResumption } from './ietf';
import { resolveLocation, statusError, type CreateHooks, type ProtocolUploader, type UploadIo, type UploadState } from './protocol';

/**
 * The last resort: the whole file in one PUT. It cannot resume (an interruption starts over), so
 * the record says `resumable: false`. The request also invites an IETF-draft server to upgrade it
 * (`Upload-Complete: ?1`): a 104 with an upload URL turns it into a resumable upload on the spot.
 */
export class PlainPutUploader implements ProtocolUploader {
  readonly protocol = 'put' as const;
  readonly resumable = false;

  async create(io: UploadIo, signal: AbortSignal, hooks: CreateHooks): Promise<UploadState> {
    const response = await io.send(io.endpoint, {
      method: 'PUT',
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(io.size),
        'upload-complete': formatSfBoolean(true),
        'upload-length': String(io.size),
        'upload-draft-interop-version': String(IETF_INTEROP_VERSION),
      },
      start: 0,
      end: io.size,
      signal,
      onInterim: (info) => {
        if (!isOurUploadResumption(info)) return;
        const location = resolveLocation(info.headers.get('location'), io.endpoint);
        if (!location) return;
        io.logger.info(`${io.tag} the server upgraded the PUT to a resumable upload: ${redactUrl(location)}`);
        hooks.onUpgrade?.('ietf', location);
      },
    });
    response.discard();
    if (response.status < 200 || response.status >= 300) throw statusError(response, 'PUT', io.endpoint);
    return { uploadUrl: io.endpoint, offset: io.size, complete: true };
  }

  /** Nothing to ask: a plain PUT always starts over. */
  async resume(_io: UploadIo, uploadUrl: string): Promise<UploadState> {
    return { uploadUrl, offset: 0, complete: false };
  }

  async append(io: UploadIo, _uploadUrl: string, _offset: number, signal: AbortSignal): Promise<UploadState> {
    return this.create(io, signal, { onUploadUrl: () => undefined });
  }

  async terminate(): Promise<void> {}
}
