/**
 * Every failure the engine reports is a TransferError with a stable `code`.
 * User interfaces map codes to localized messages; the English `message` is for logs.
 */
export type TransferErrorCode =
  | 'ERR_INVALID_URL'
  | 'ERR_UNSUPPORTED_PROTOCOL'
  | 'ERR_NETWORK'
  | 'ERR_CONNECT_TIMEOUT'
  | 'ERR_RESPONSE_TIMEOUT'
  | 'ERR_STALLED'
  | 'ERR_TOO_MANY_REDIRECTS'
  | 'ERR_HTTP_STATUS'
  | 'ERR_CONTENT_ENCODING'
  | 'ERR_RANGE_MISMATCH'
  | 'ERR_CONTENT_CHANGED'
  | 'ERR_SHORT_BODY'
  | 'ERR_LENGTH_MISMATCH'
  | 'ERR_CHECKSUM_MISMATCH'
  | 'ERR_CHECKSUM_CONFLICT'
  | 'ERR_LINK_EXPIRED'
  | 'ERR_NOT_SAME_FILE'
  | 'ERR_DISK_FULL'
  | 'ERR_FILE_SYSTEM'
  | 'ERR_UNSAFE_PATH'
  | 'ERR_TARGET_EXISTS'
  | 'ERR_RETRIES_EXHAUSTED'
  | 'ERR_ABORTED'
  | 'ERR_RECORD_INVALID'
  | 'ERR_UPLOAD_NOT_RESUMABLE'
  | 'ERR_UPLOAD_GONE'
  | 'ERR_FILE_CHANGED'
  | 'ERR_RUNNING_ELSEWHERE'
  | 'ERR_NO_PROGRESS'
  | 'ERR_PROXY_CONFIG'
  | 'ERR_TLS_CERTIFICATE'
  | 'ERR_BAD_RESPONSE'
  | 'ERR_INTERNAL';

export const TRANSFER_ERROR_CODES: readonly TransferErrorCode[] = [
  'ERR_INVALID_URL', 'ERR_UNSUPPORTED_PROTOCOL', 'ERR_NETWORK', 'ERR_CONNECT_TIMEOUT',
  'ERR_RESPONSE_TIMEOUT', 'ERR_STALLED', 'ERR_TOO_MANY_REDIRECTS', 'ERR_HTTP_STATUS',
  'ERR_CONTENT_ENCODING', 'ERR_RANGE_MISMATCH', 'ERR_CONTENT_CHANGED', 'ERR_SHORT_BODY',
  'ERR_LENGTH_MISMATCH', 'ERR_CHECKSUM_MISMATCH', 'ERR_CHECKSUM_CONFLICT', 'ERR_LINK_EXPIRED', 'ERR_NOT_SAME_FILE', 'ERR_DISK_FULL', 'ERR_FILE_SYSTEM', 'ERR_UNSAFE_PATH',
  'ERR_TARGET_EXISTS', 'ERR_RETRIES_EXHAUSTED', 'ERR_ABORTED', 'ERR_RECORD_INVALID',
  'ERR_UPLOAD_NOT_RESUMABLE', 'ERR_UPLOAD_GONE', 'ERR_FILE_CHANGED', 'ERR_RUNNING_ELSEWHERE', 'ERR_NO_PROGRESS', 'ERR_PROXY_CONFIG',
  'ERR_TLS_CERTIFICATE', 'ERR_BAD_RESPONSE', 'ERR_INTERNAL',
];

/**
 * Why the network failed, in words a user knows: the code says "network error", the reason says
 * which one. Kept with the error in the record so the UI can name it after a reload.
 */
export type NetworkReason = 'connection-refused' | 'host-not-found' | 'tls-untrusted' | 'timed-out' | 'connection-reset';

/**
 * The checksum that the downloaded bytes did not match (ERR_CHECKSUM_MISMATCH): kept with the
 * error in the record so the UI can say, in the user's language, which source disagreed.
 */
export interface DisagreeingChecksum {
  algorithm: string;
  /** `Repr-Digest`, a checksum file's name such as `SHA256SUMS`, or `user`. */
  source: string;
}

export interface TransferErrorDetails {
  /** HTTP status, when the error came from a response. */
  status?: number;
  networkReason?: NetworkReason;
  checksum?: DisagreeingChecksum;
  /** Seconds or HTTP-date from a Retry-After header. */
  retryAfter?: string;
  cause?: unknown;
}

export class TransferError extends Error {
  override readonly name = 'TransferError';
  readonly status?: number;
  readonly retryAfter?: string;
  /** The network failure behind this error, or behind the error it wraps (retries exhausted). */
  readonly networkReason?: NetworkReason;
  readonly checksum?: DisagreeingChecksum;

  constructor(readonly code: TransferErrorCode, message: string, details: TransferErrorDetails = {}) {
    // Messages end up in logs, notifications and the saved lastError: never with a URL's secrets.
    super(redactText(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.retryAfter = details.retryAfter;
    this.checksum = details.checksum;
    this.networkReason =
      details.networkReason ??
      (details.cause instanceof TransferError ? details.cause.networkReason : undefined) ??
      (code === 'ERR_CONNECT_TIMEOUT' || code === 'ERR_RESPONSE_TIMEOUT' ? 'timed-out' : undefined);
  }

  toJSON(): { code: TransferErrorCode; message: string; status?: number; networkReason?: NetworkReason; checksum?: DisagreeingChecksum } {
    const json = { code: this.code, message: this.message, status: this.status, networkReason: this.networkReason };
    return this.checksum ? { ...json, checksum: { ...this.checksum } } : json;
  }
}

/**
 * Reads the reason from a Node or TLS error code (ECONNREFUSED, ENOTFOUND,
 * DEPTH_ZERO_SELF_SIGNED_CERT, …); undefined when the code says nothing a user could act on.
 */
export function networkReasonOf(code: string | undefined): NetworkReason | undefined {
  if (!code) return undefined;
  if (code === 'ECONNREFUSED') return 'connection-refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_NODATA') return 'host-not-found';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT/.test(code)) return 'tls-untrusted';
  if (code === 'ETIMEDOUT' || code === 'ERR_RT_CONNECT_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timed-out';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return 'connection-reset';
  return undefined;
}

export function isTransferError(value: unknown): value is TransferError {
  return value instanceof TransferError;
}

/** Why an AbortSignal fired: pause, cancel and shutdown are all aborts, told apart by reason. */
export type AbortReason = 'pause' | 'cancel' | 'shutdown' | 'stall' | 'timeout';

export class AbortError extends TransferError {
  constructor(readonly reason: AbortReason | string = 'cancel') {
    super('ERR_ABORTED', `aborted (${reason})`);
  }
}

/** Reason carried by an aborted signal, normalised to a string. */
export function abortReasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof AbortError) return reason.reason;
  if (typeof reason === 'string') return reason;
  return 'cancel';
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(abortReasonOf(signal));
}

/**
 * Query parameters that make a URL a credential: signed-URL signatures (S3, GCS, Azure SAS,
 * CloudFront) and bearer tokens. Their values never reach a log, a message or a tooltip; their
 * names stay, so a reader still sees what kind of link it was. Compared in lower case.
 */
const SECRET_QUERY_PARAMETERS = new Set([
  'x-amz-signature', 'x-amz-credential', 'x-amz-security-token',
  'x-goog-signature', 'x-goog-credential', 'x-goog-security-token',
  'signature', 'sig', 'token', 'access_token', 'refresh_token', 'id_token', 'auth', 'api_key', 'apikey',
  'key', 'password', 'secret', 'client_secret', 'policy', 'key-pair-id',
]);

export const REDACTED = 'REDACTED';

function redactQuery(search: string): string {
  if (search.length <= 1) return search;
  const pairs = search.slice(1).split('&').map((pair) => {
    const equals = pair.indexOf('=');
    const rawName = equals < 0 ? pair : pair.slice(0, equals);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      // A malformed escape is still compared as written.
    }
    return SECRET_QUERY_PARAMETERS.has(name.toLowerCase()) && equals >= 0 ? `${rawName}=${REDACTED}` : pair;
  });
  return `?${pairs.join('&')}`;
}

/**
 * The one place that decides what of a URL may be shown: user:password goes, the values of
 * secret query parameters (SECRET_QUERY_PARAMETERS) become REDACTED, everything else stays.
 */
export function redactUrl(url: string | URL): string {
  try {
    const parsed = new URL(String(url));
    if (parsed.username || parsed.password) {
      parsed.username = '';
      parsed.password = '';
    }
    parsed.search = redactQuery(parsed.search);
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}

/** Every http(s) URL inside a free text (a log line, an error message) passed through redactUrl. */
export function redactText(text: string): string {
  return text.replace(/\bhttps?:\/\/[^\s"'<>]+/gi, (match) => {
    // Punctuation that ends the sentence is not part of the URL.
    const url = match.replace(/[).,;:!?\]]+$/, '');
    const tail = match.slice(url.length);
    if (!/[?@]/.test(url)) return match;
    const redacted = redactUrl(url);
    if (redacted !== '<invalid url>') return `${redacted}${tail}`;
    const query = url.indexOf('?');
    return query < 0 ? `<invalid url>${tail}` : `${url.slice(0, query)}${redactQuery(url.slice(query))}${tail}`;
  });
}

/** Maps a file-system error to the engine's codes (a full disk deserves its own message). */
export function fromFileSystemError(error: unknown, action: string): TransferError {
  if (error instanceof TransferError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ELOOP') {
    // O_NOFOLLOW refused a symbolic link: someone planted one where only our own file belongs.
    return new TransferError('ERR_UNSAFE_PATH', `refusing to ${action}: it is a symbolic link`, { cause: error });
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new TransferError('ERR_DISK_FULL', `no space left on device while trying to ${action}`, { cause: error });
  }
  return new TransferError('ERR_FILE_SYSTEM', `could not ${action}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}
