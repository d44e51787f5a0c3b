import * as vscode from 'vscode';
import type { RecordedError, TransferErrorCode } from '../core';

/** Why a transfer started over from byte 0, for the user (the English reason stays in the log). */
export function localizeRestart(code: string | undefined): string | undefined {
  switch (code) {
    case 'ERR_CONTENT_CHANGED':
      return vscode.l10n.t('The file changed on the server, so the download started again from the beginning.');
    case 'ERR_RANGE_MISMATCH':
      return vscode.l10n.t('The server did not send the requested part of the file, so the download started again from the beginning.');
    case 'ERR_FILE_CHANGED':
      return vscode.l10n.t('The local file changed, so the upload started again from the beginning.');
    case 'ERR_UPLOAD_GONE':
      return vscode.l10n.t('The server no longer had the upload, so it started again from the beginning.');
    default:
      return code === undefined ? undefined : vscode.l10n.t('The transfer started again from the beginning.');
  }
}

/**
 * A localized sentence for every engine error code. The engine's English message stays in the
 * log; users read these.
 */
export function localizeError(error: RecordedError | undefined): string {
  if (!error) return '';
  const code = error.code as TransferErrorCode;
  const status = error.status;
  switch (code) {
    case 'ERR_INVALID_URL':
      return vscode.l10n.t('The URL is not valid.');
    case 'ERR_UNSUPPORTED_PROTOCOL':
      return vscode.l10n.t('Only http and https URLs can be transferred.');
    case 'ERR_NETWORK':
      return vscode.l10n.t('The server could not be reached or the connection broke.');
    case 'ERR_CONNECT_TIMEOUT':
      return vscode.l10n.t('Connecting to the server timed out.');
    case 'ERR_RESPONSE_TIMEOUT':
      return vscode.l10n.t('The server did not answer in time.');
    case 'ERR_STALLED':
      return vscode.l10n.t('No data arrived for too long.');
    case 'ERR_TOO_MANY_REDIRECTS':
      return vscode.l10n.t('The server redirected too many times.');
    case 'ERR_HTTP_STATUS':
      return status === undefined
        ? vscode.l10n.t('The server refused the request.')
        : vscode.l10n.t('The server answered with HTTP status {0}.', status);
    case 'ERR_CONTENT_ENCODING':
      return vscode.l10n.t('The server sent compressed data although plain data was requested.');
    case 'ERR_RANGE_MISMATCH':
      return vscode.l10n.t('The server sent a different part of the file than requested.');
    case 'ERR_CONTENT_CHANGED':
      return vscode.l10n.t('The file kept changing on the server.');
    case 'ERR_SHORT_BODY':
      return vscode.l10n.t('The connection ended before all data arrived.');
    case 'ERR_LENGTH_MISMATCH':
      return vscode.l10n.t('The downloaded size does not match the size the server announced.');
    case 'ERR_CHECKSUM_MISMATCH':
      return vscode.l10n.t('The checksum of the downloaded file does not match.');
    case 'ERR_DISK_FULL':
      return vscode.l10n.t('The disk is full. Free some space, then resume: nothing downloaded so far is lost.');
    case 'ERR_FILE_SYSTEM':
      return vscode.l10n.t('The file could not be written.');
    case 'ERR_UNSAFE_PATH':
      return vscode.l10n.t('The file to write is a symbolic link, so nothing was written through it. Remove the link, then retry.');
    case 'ERR_TARGET_EXISTS':
      return vscode.l10n.t('A file with this name already exists.');
    case 'ERR_RETRIES_EXHAUSTED':
      return vscode.l10n.t('Gave up after repeated failures. Retry to continue where it stopped.');
    case 'ERR_ABORTED':
      return vscode.l10n.t('The transfer was stopped.');
    case 'ERR_RECORD_INVALID':
      return vscode.l10n.t('The saved state of this transfer could not be trusted; it starts again from the beginning.');
    case 'ERR_UPLOAD_NOT_RESUMABLE':
      return vscode.l10n.t('The endpoint cannot resume uploads.');
    case 'ERR_UPLOAD_GONE':
      return vscode.l10n.t('The upload no longer exists on the server.');
    case 'ERR_FILE_CHANGED':
      return vscode.l10n.t('The local file changed since the upload started.');
    case 'ERR_INTERNAL':
      return vscode.l10n.t('An internal error stopped the transfer. Retry to continue where it stopped.');
    default: {
      // Compile-time check: every engine error code has a sentence above.
      const unhandled: never = code;
      return vscode.l10n.t('The transfer failed ({0}).', String(unhandled));
    }
  }
}
