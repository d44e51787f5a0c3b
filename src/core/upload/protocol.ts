import { TransferError, redactUrl } from '../errors';
import type { HttpResponse } from '../http/client';
import type { InterimInfo } from '../http/interim';
import type { Logger } from '../logger';

/** The wire protocols one upload can use; `put` is the non-resumable last resort. */
export type UploadProtocol = 'tus' | 'ietf' | 'put-range' | 'put';
export const UPLOAD_PROTOCOLS: readonly UploadProtocol[] = ['tus', 'ietf', 'put-range', 'put'];
/** What a user may choose: a protocol, or detection per endpoint. */
export type UploadProtocolChoice = UploadProtocol | 'auto';

export function isUploadProtocol(value: unknown): value is UploadProtocol {
  return typeof value === 'string' && (UPLOAD_PROTOCOLS as readonly string[]).includes(value);
}

/** Where the server stands for one upload, as far as the last response told. */
export interface UploadState {
  /** Bytes the server has (confirmed). */
  offset: number;
  /** The server holds the whole file and the upload is finished. */
  complete: boolean;
  /** The upload resource, once known (tus/IETF: from the server; PUT: the target). */
  uploadUrl?: string;
  /** When the server will forget the unfinished upload (epoch ms). */
  expiresAt?: number;
}

export type { InterimInfo } from '../http/interim';

export interface SendOptions {
  method: string;
  headers: Record<string, string>;
  /** Bytes [start, end) of the source file form the request body. */
  start: number;
  end: number;
  signal: AbortSignal;
  /**
   * Called for every 1xx interim response (the HTTP client then sends the request through
   * node:http, because node-fetch silently drops 1xx responses).
   */
  onInterim?: (info: InterimInfo) => void;
}

/**
 * Everything a protocol needs from the task that runs it: requests (with the user's extra headers,
 * progress counting and a stall watchdog on bodies), the file's digest, and a logger. Protocols
 * hold no state about the file and never touch the store.
 */
export interface UploadIo {
  readonly endpoint: string;
  readonly size: number;
  /** Name of the source file (for tus metadata and Content-Disposition). */
  readonly filename: string;
  readonly logger: Logger;
  readonly tag: string;
  /** A request without body (OPTIONS, HEAD, POST creation, DELETE); the caller discards the body. */
  request(url: string, method: string, headers: Record<string, string>, signal: AbortSignal): Promise<HttpResponse>;
  /** A request whose body is a slice of the file; returns once the response headers arrived. */
  send(url: string, options: SendOptions): Promise<HttpResponse>;
  /** Digest of bytes [start, end) of the file (tus Upload-Checksum). */
  digest(algorithm: string, start: number, end: number, signal: AbortSignal): Promise<Buffer>;
}

/**
 * One protocol behind the common uploader interface. The task calls `create` for a new upload (it
 * may already carry bytes), `resume` to ask the server where an existing upload stands, `append`
 * until the state is complete, and `terminate` on cancel.
 */
export interface ProtocolUploader {
  readonly protocol: UploadProtocol;
  /** False for a plain PUT: an interruption loses everything sent. */
  readonly resumable: boolean;
  create(io: UploadIo, signal: AbortSignal, hooks: CreateHooks): Promise<UploadState>;
  /** Throws ERR_UPLOAD_GONE when the server no longer knows the upload. */
  resume(io: UploadIo, uploadUrl: string, signal: AbortSignal): Promise<UploadState>;
  append(io: UploadIo, uploadUrl: string, offset: number, signal: AbortSignal): Promise<UploadState>;
  /** Best effort: tells the server to drop the upload. */
  terminate(io: UploadIo, uploadUrl: string, signal: AbortSignal): Promise<void>;
}

export interface CreateHooks {
  /**
   * The upload resource is known before the creating request finished (IETF 104): save it now, so
   * an interruption of this very request can be resumed.
   */
  onUploadUrl(url: string): void;
  /**
   * A plain PUT turned out to be resumable (the server answered with a 104 of the IETF draft): the
   * task switches to that protocol for the rest of the upload.
   */
  onUpgrade?(protocol: UploadProtocol, uploadUrl: string): void;
  /** The IETF interop version the server accepted for this upload (kept for resumes and the endpoint). */
  onInteropVersion?(version: number): void;
}

/** A final response that is neither success nor a case the protocol handles itself. */
export function statusError(response: HttpResponse, what: string, url: string): TransferError {
  return new TransferError('ERR_HTTP_STATUS', `server answered ${response.status} to ${what} ${redactUrl(url)}`, {
    status: response.status,
    retryAfter: response.headers.get('retry-after') ?? undefined,
  });
}

/**
 * A 2xx to an append that did not move the server's offset: sending the same bytes again forever
 * would never finish. Retryable, so the retry budget (which resets only on new ground) bounds it.
 */
export function noProgressError(what: string, url: string, offset: number, status: number): TransferError {
  return new TransferError('ERR_NO_PROGRESS', `server answered ${status} to ${what} ${redactUrl(url)} at ${offset} but its offset did not move`, { status });
}

export function goneError(status: number, url: string): TransferError {
  return new TransferError('ERR_UPLOAD_GONE', `the upload ${redactUrl(url)} is gone on the server (${status})`, { status });
}

export function notResumableError(message: string, status?: number): TransferError {
  return new TransferError('ERR_UPLOAD_NOT_RESUMABLE', message, { status });
}

/** Resolves a Location header against the URL of the request that returned it. */
export function resolveLocation(location: string | null, base: string): string | undefined {
  if (!location) return undefined;
  try {
    const url = new URL(location.trim(), base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}
