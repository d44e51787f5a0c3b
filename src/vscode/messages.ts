import { USER_SOURCE, type PendingRetry, type RecordedError, type TransferErrorCode } from '../core';

/**
 * The slice of `vscode.l10n` the text functions need. They take it as a parameter, so unit tests
 * can run them in plain Node with the English source strings or with a language bundle.
 */
export interface L10n {
  t(message: string, ...args: Array<string | number | boolean>): string;
}

/** Who vouches for a checksum, in words: "sha256 from SHA256SUMS", "sha256 you gave". */
export function checksumText(checksum: { algorithm: string; source: string }, l10n: L10n): string {
  return checksum.source === USER_SOURCE ? l10n.t('{0} you gave', checksum.algorithm) : l10n.t('{0} from {1}', checksum.algorithm, checksum.source);
}

/** Why a transfer started over from byte 0, for the user (the English reason stays in the log). */
export function localizeRestart(code: string | undefined, l10n: L10n): string | undefined {
  switch (code) {
    case 'ERR_CONTENT_CHANGED':
      return l10n.t('The file changed on the server, so the download started again from the beginning.');
    case 'ERR_RANGE_MISMATCH':
      return l10n.t('The server did not send the requested part of the file, so the download started again from the beginning.');
    case 'ERR_FILE_CHANGED':
      return l10n.t('The local file changed, so the upload started again from the beginning.');
    case 'ERR_UPLOAD_GONE':
      return l10n.t('The server no longer had the upload, so it started again from the beginning.');
    case 'ERR_NOT_SAME_FILE':
      return l10n.t('The link changed and nothing proved the new one is the same file, so the download started again from the beginning.');
    default:
      return code === undefined ? undefined : l10n.t('The transfer started again from the beginning.');
  }
}

/** The network failure in a few words (the engine's FailureReason), or undefined when unknown. */
export function localizeReason(reason: string | undefined, l10n: L10n): string | undefined {
  switch (reason) {
    case 'connection-refused':
      return l10n.t('connection refused');
    case 'host-not-found':
      return l10n.t('host not found');
    case 'tls-untrusted':
      return l10n.t('TLS certificate not trusted');
    case 'timed-out':
      return l10n.t('timed out');
    case 'connection-reset':
      return l10n.t('connection reset');
    default:
      return undefined;
  }
}

/** The cause of a failure in a few words: the network reason, else the HTTP status, else the code's sentence. */
export function shortCause(error: RecordedError, l10n: L10n): string {
  const reason = localizeReason(error.networkReason, l10n);
  if (reason) return reason;
  if (error.status !== undefined) return l10n.t('HTTP status {0}', error.status);
  return localizeError({ ...error, retry: undefined }, l10n);
}

/** "Retrying in 4 s (2 of 5): connection refused" while a retry waits; "Retrying (2 of 5): …" once it runs. */
export function retryText(error: RecordedError & { retry: PendingRetry }, now: number, l10n: L10n): string {
  const { attempt, of, at } = error.retry;
  const cause = shortCause(error, l10n);
  const seconds = Math.ceil((at - now) / 1000);
  return seconds > 0
    ? l10n.t('Retrying in {0} s ({1} of {2}): {3}', seconds, attempt, of, cause)
    : l10n.t('Retrying ({0} of {1}): {2}', attempt, of, cause);
}

export interface ErrorContext {
  /** Whether bytes of the transfer are kept: only then can a retry "continue where it stopped". */
  hasBytes?: boolean;
}

/**
 * A localized sentence for every engine error code. The engine's English message stays in the
 * log; users read these.
 */
export function localizeError(error: RecordedError | undefined, l10n: L10n, context: ErrorContext = {}): string {
  if (!error) return '';
  const code = error.code as TransferErrorCode;
  const status = error.status;
  const continueIfBytes = (sentence: string) => (context.hasBytes ? l10n.t('{0} Retry to continue where it stopped.', sentence) : sentence);
  switch (code) {
    case 'ERR_INVALID_URL':
      return l10n.t('The URL is not valid.');
    case 'ERR_UNSUPPORTED_PROTOCOL':
      return l10n.t('Only http and https URLs can be transferred.');
    case 'ERR_NETWORK': {
      const reason = localizeReason(error.networkReason, l10n);
      return reason ? l10n.t('Network error: {0}.', reason) : l10n.t('The server could not be reached or the connection broke.');
    }
    case 'ERR_CONNECT_TIMEOUT':
      return l10n.t('Connecting to the server timed out.');
    case 'ERR_RESPONSE_TIMEOUT':
      return l10n.t('The server did not answer in time.');
    case 'ERR_STALLED':
      return l10n.t('No data arrived for too long.');
    case 'ERR_TOO_MANY_REDIRECTS':
      return l10n.t('The server redirected too many times.');
    case 'ERR_HTTP_STATUS':
      return status === undefined ? l10n.t('The server refused the request.') : l10n.t('The server answered with HTTP status {0}.', status);
    case 'ERR_CONTENT_ENCODING':
      return l10n.t('The server sent compressed data although plain data was requested.');
    case 'ERR_RANGE_MISMATCH':
      return l10n.t('The server sent a different part of the file than requested.');
    case 'ERR_CONTENT_CHANGED':
      return l10n.t('The file kept changing on the server.');
    case 'ERR_SHORT_BODY':
      return l10n.t('The connection ended before all data arrived.');
    case 'ERR_LENGTH_MISMATCH':
      return l10n.t('The downloaded size does not match the size the server announced.');
    case 'ERR_CHECKSUM_MISMATCH':
      // Name the source that disagreed: a stale SHA256SUMS and a corrupted download call for different fixes.
      return typeof error.checksum?.algorithm === 'string' && typeof error.checksum.source === 'string'
        ? l10n.t('The downloaded file does not match the {0}.', checksumText(error.checksum, l10n))
        : l10n.t('The checksum of the downloaded file does not match.');
    case 'ERR_CHECKSUM_CONFLICT':
      return l10n.t('The server offers two checksums for this file that disagree. Give the right one to verify it.');
    case 'ERR_LINK_EXPIRED':
      return l10n.t('The link has expired. Use Update Link… with a fresh link to continue.');
    case 'ERR_NOT_SAME_FILE':
      return l10n.t('The new link is not the same file as the partial download.');
    case 'ERR_DISK_FULL':
      return l10n.t('The disk is full. Free some space, then resume: nothing downloaded so far is lost.');
    case 'ERR_FILE_SYSTEM':
      return l10n.t('The file could not be written.');
    case 'ERR_UNSAFE_PATH':
      return l10n.t('The file to write is a symbolic link, so nothing was written through it. Remove the link, then retry.');
    case 'ERR_TARGET_EXISTS':
      return l10n.t('A file with this name already exists.');
    case 'ERR_RETRIES_EXHAUSTED': {
      const reason = localizeReason(error.networkReason, l10n) ?? (status === undefined ? undefined : l10n.t('HTTP status {0}', status));
      return continueIfBytes(reason ? l10n.t('Gave up after repeated failures: {0}.', reason) : l10n.t('Gave up after repeated failures.'));
    }
    case 'ERR_ABORTED':
      return l10n.t('The transfer was stopped.');
    case 'ERR_RECORD_INVALID':
      return l10n.t('The saved state of this transfer could not be trusted; it starts again from the beginning.');
    case 'ERR_UPLOAD_NOT_RESUMABLE':
      return l10n.t('The endpoint cannot resume uploads.');
    case 'ERR_UPLOAD_GONE':
      return l10n.t('The upload no longer exists on the server.');
    case 'ERR_FILE_CHANGED':
      return l10n.t('The local file changed since the upload started.');
    case 'ERR_NO_PROGRESS':
      return l10n.t('The server accepted the data but did not keep it.');
    case 'ERR_RUNNING_ELSEWHERE':
      return l10n.t('Another window or process is running this transfer; this one stopped so that only one writes.');
    case 'ERR_PROXY_CONFIG':
      return l10n.t('The proxy setting cannot be used: only http and https proxies are supported. Change the setting http.proxy (or the HTTPS_PROXY / HTTP_PROXY environment variable).');
    case 'ERR_TLS_CERTIFICATE':
      return l10n.t("The server's certificate is not trusted. If the server uses your organisation's certificate authority, add it in the setting resumableTransfers.caCertificates.");
    case 'ERR_BAD_RESPONSE':
      return l10n.t('The server sent a malformed response.');
    case 'ERR_INTERNAL':
      return continueIfBytes(l10n.t('An internal error stopped the transfer.'));
    default: {
      // Compile-time check: every engine error code has a sentence above.
      const unhandled: never = code;
      return l10n.t('The transfer failed ({0}).', String(unhandled));
    }
  }
}
