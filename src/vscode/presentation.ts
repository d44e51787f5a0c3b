import {
  formatBytes,
  formatDuration,
  formatPercent,
  formatSpeed,
  redactUrl,
  totalBytes,
  transferName,
  transferredBytes,
  type PendingRetry,
  type RecordedError,
  type TransferSnapshot,
  type TransferState,
  type VerifiedDigest,
} from '../core';
import { checksumText, localizeError, localizeRestart, retryText, type L10n } from './messages';

/**
 * What one transfer looks like in words: the row's label, description and tooltip. Plain text
 * (no vscode import) so that unit tests check exactly what the user reads.
 */
export function displayName(snapshot: TransferSnapshot): string {
  return transferName(snapshot.record);
}

/** "Verified (sha256 from SHA256SUMS)": which checksum vouched for a completed download. */
export function verifiedText(verified: readonly VerifiedDigest[] | undefined, l10n: L10n): string | undefined {
  if (!verified || verified.length === 0) return undefined;
  return l10n.t('Verified ({0})', verified.map((v) => checksumText(v, l10n)).join(', '));
}

export function stateLabel(state: TransferState, l10n: L10n): string {
  switch (state) {
    case 'queued':
      return l10n.t('Queued');
    case 'running':
      return l10n.t('Running');
    case 'paused':
      return l10n.t('Paused');
    case 'failed':
      return l10n.t('Failed');
    case 'completed':
      return l10n.t('Completed');
    case 'cancelled':
      return l10n.t('Cancelled');
  }
}

export function bytesOf(snapshot: TransferSnapshot): { bytes: number; length?: number } {
  const bytes = snapshot.progress?.bytes ?? transferredBytes(snapshot.record);
  return { bytes, length: snapshot.progress?.length ?? totalBytes(snapshot.record) };
}

/** The one percentage the row, the tooltip and the status bar all show (rounded down: 100% only when done). */
export function percentOf(bytes: number, length: number | undefined): string | undefined {
  return formatPercent(bytes, length);
}

/** Where an upload goes: the host of the upload resource, else of the endpoint. */
export function uploadHost(snapshot: TransferSnapshot): string | undefined {
  const { record } = snapshot;
  if (record.kind !== 'upload') return undefined;
  try {
    return new URL(record.uploadUrl ?? record.url).host;
  } catch {
    return undefined;
  }
}

function downloadHost(snapshot: TransferSnapshot): string | undefined {
  try {
    return new URL(snapshot.record.url).host;
  } catch {
    return undefined;
  }
}

/**
 * The retry the transfer waits for, or is making while no bytes flow; undefined otherwise.
 * Once bytes flow again the row goes back to progress.
 */
export function pendingRetry(snapshot: TransferSnapshot, now: number): (RecordedError & { retry: PendingRetry }) | undefined {
  const { record, progress } = snapshot;
  const error = record.lastError;
  if (record.state !== 'running' || snapshot.held || !error?.retry) return undefined;
  if (now >= error.retry.at && progress && progress.bytesPerSecond > 0) return undefined;
  return error as RecordedError & { retry: PendingRetry };
}

function failureText(snapshot: TransferSnapshot, l10n: L10n): string {
  const { bytes } = bytesOf(snapshot);
  return l10n.t('Failed: {0}', localizeError(snapshot.record.lastError, l10n, { hasBytes: bytes > 0 }));
}

/**
 * The row's description, what matters first (the sidebar cuts the end): percent and time left
 * while running; the reason when stopped; uploads end with where they go. The rest is in the tooltip.
 */
export function describe(snapshot: TransferSnapshot, l10n: L10n, now = Date.now()): string {
  const { record, progress, held } = snapshot;
  const { bytes, length } = bytesOf(snapshot);
  const percent = percentOf(bytes, length);
  const parts: string[] = [];
  const retry = pendingRetry(snapshot, now);
  if (held === 'running-elsewhere') {
    if (percent) parts.push(percent);
    parts.push(l10n.t('Running in another window'));
  } else if (retry) {
    if (percent && bytes > 0) parts.push(percent);
    parts.push(retryText(retry, now, l10n));
  } else if (record.state === 'running') {
    parts.push(percent ?? formatBytes(bytes));
    if (progress?.etaSeconds !== undefined) parts.push(l10n.t('{0} left', formatDuration(progress.etaSeconds)));
    if (progress && progress.bytesPerSecond > 0) parts.push(formatSpeed(progress.bytesPerSecond));
  } else if (record.state === 'failed') {
    parts.push(failureText(snapshot, l10n));
    if (percent && bytes > 0) parts.push(percent);
  } else if (record.state === 'completed') {
    const host = uploadHost(snapshot);
    parts.push(host ? l10n.t('Uploaded to {0}', host) : stateLabel('completed', l10n));
    parts.push(formatBytes(length ?? bytes));
    return parts.join(' · ');
  } else if (record.state === 'cancelled') {
    // The partial data is deleted on cancel: its old percentage would be a lie.
    parts.push(stateLabel('cancelled', l10n));
  } else {
    parts.push(stateLabel(record.state, l10n));
    if (percent && bytes > 0) parts.push(percent);
    if (held === 'auto-resume-off') parts.push(l10n.t('auto-resume is off'));
  }
  if (record.kind === 'upload') {
    if (record.resumable === false) parts.push(l10n.t('cannot resume'));
    const host = uploadHost(snapshot);
    if (host) parts.push(l10n.t('↑ to {0}', host));
  }
  const limit = limitText(snapshot, l10n);
  if (limit) parts.push(limit);
  return parts.join(' · ');
}

/** The transfer's own speed limit, shown on its row ("limit 1.0 MiB/s"): it explains a slow row. */
export function limitText(snapshot: TransferSnapshot, l10n: L10n): string | undefined {
  const limit = snapshot.record.maxBytesPerSecond;
  return limit ? l10n.t('limit {0}', formatSpeed(limit)) : undefined;
}

/** The first line of the tooltip under the name: the state, or the sentence that explains it. */
function headline(snapshot: TransferSnapshot, l10n: L10n, now: number): string {
  const { record, held } = snapshot;
  if (held === 'running-elsewhere') return l10n.t('Running in another window');
  const retry = pendingRetry(snapshot, now);
  if (retry) return retryText(retry, now, l10n);
  if (record.state === 'failed') return failureText(snapshot, l10n);
  if (held === 'auto-resume-off') return `${stateLabel(record.state, l10n)} · ${l10n.t('auto-resume is off')}`;
  return stateLabel(record.state, l10n);
}

const escape = (text: string) => text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');

/**
 * The tooltip as Markdown: the name, the state once, then everything the description leaves out
 * (bytes, speed, direction, URLs, validators, the last error).
 */
export function tooltipMarkdown(snapshot: TransferSnapshot, l10n: L10n, now = Date.now()): string {
  const { record, progress } = snapshot;
  const { bytes, length } = bytesOf(snapshot);
  const lines: string[] = [`**${escape(displayName(snapshot))}**`, '', escape(headline(snapshot, l10n, now)), ''];
  const row = (label: string, value: string | undefined, code = true) => {
    // The colon is part of the translation: Chinese uses the full-width one.
    if (value) lines.push(`- ${l10n.t('{0}: {1}', escape(label), code ? `\`${value.replace(/`/g, "'")}\`` : escape(value))}`);
  };
  if (record.state !== 'cancelled' && record.state !== 'completed' && (bytes > 0 || length !== undefined)) {
    const percent = percentOf(bytes, length);
    const size = length === undefined ? formatBytes(bytes) : l10n.t('{0} of {1}', formatBytes(bytes), formatBytes(length));
    row(l10n.t('Progress'), percent ? `${size} (${percent})` : size, false);
    if (record.state === 'running' && progress && progress.bytesPerSecond > 0) row(l10n.t('Speed'), formatSpeed(progress.bytesPerSecond), false);
    if (record.state === 'running' && progress?.etaSeconds !== undefined) row(l10n.t('Time left'), formatDuration(progress.etaSeconds), false);
    if (record.maxBytesPerSecond) row(l10n.t('Speed limit'), formatSpeed(record.maxBytesPerSecond), false);
  } else if (record.state === 'completed') {
    row(l10n.t('Size'), formatBytes(length ?? bytes), false);
  }
  if (record.kind === 'download') {
    row(l10n.t('Download from'), downloadHost(snapshot), false);
    row(l10n.t('URL'), redactUrl(record.url));
    if (record.finalUrl && record.finalUrl !== record.url) row(l10n.t('Redirected to'), redactUrl(record.finalUrl));
    row(l10n.t('Saved as'), record.target ?? record.targetDir);
    row(l10n.t('ETag'), record.etag);
    row(l10n.t('Last-Modified'), record.lastModified);
    const verified = verifiedText(record.verified, l10n);
    if (verified) lines.push(`- $(verified) ${escape(verified)}`);
  } else {
    row(l10n.t('Upload to'), uploadHost(snapshot), false);
    row(l10n.t('File'), record.source);
    row(l10n.t('Endpoint'), redactUrl(record.url));
    row(l10n.t('Protocol'), protocolText(record.protocol, record.resumable, l10n), false);
    row(l10n.t('Upload URL'), record.uploadUrl ? redactUrl(record.uploadUrl) : undefined);
  }
  // Every window of every machine lists this row: say where its bytes are.
  row(l10n.t('Machine'), record.machine?.label, false);
  const restart = localizeRestart(record.restartCode, l10n);
  if (restart) lines.push(`- ${escape(restart)}`);
  if (record.lastError && record.state !== 'failed') {
    row(l10n.t('Last error'), `${localizeError({ ...record.lastError, retry: undefined }, l10n)} (${record.lastError.code})`);
  } else if (record.lastError) {
    row(l10n.t('Error code'), record.lastError.code);
  }
  return lines.join('\n');
}

/** The upload protocol in words; a plain PUT says that it cannot resume. */
export function protocolText(protocol: string | undefined, resumable: boolean | undefined, l10n: L10n): string | undefined {
  switch (protocol) {
    case undefined:
      return undefined;
    case 'tus':
      return l10n.t('tus 1.0');
    case 'ietf':
      return l10n.t('IETF Resumable Uploads (draft)');
    case 'put-range':
      return l10n.t('PUT with Content-Range (WebDAV)');
    case 'put':
      return resumable === false ? l10n.t('Plain PUT (cannot resume)') : 'PUT';
    default:
      return protocol;
  }
}

/**
 * The notification when a transfer fails: which file, for uploads where it went and how (a plain
 * PUT says so: it is what the endpoint left us with), and why.
 */
export function failureNotice(snapshot: TransferSnapshot, l10n: L10n): string {
  const { record } = snapshot;
  const cause = localizeError(record.lastError, l10n, { hasBytes: bytesOf(snapshot).bytes > 0 });
  if (record.kind === 'download') return l10n.t('Download of {0} failed: {1}', displayName(snapshot), cause);
  const host = uploadHost(snapshot) ?? record.url;
  if (record.protocol === 'put' && record.resumable === false) {
    return l10n.t('Upload of {0} to {1} (plain PUT: the endpoint offers no resumable upload protocol) failed: {2}', displayName(snapshot), host, cause);
  }
  return l10n.t('Upload of {0} to {1} failed: {2}', displayName(snapshot), host, cause);
}

/** Detection found no resumable protocol: the upload goes in one plain PUT, which cannot resume. */
export function fellBackToPlainPut(record: TransferSnapshot['record']): boolean {
  return record.kind === 'upload' && record.protocol === 'put' && record.resumable === false;
}

/** Said when an upload falls back to plain PUT, so that it is never silent. */
export function plainPutNotice(snapshot: TransferSnapshot, l10n: L10n): string {
  return l10n.t(
    '{0} goes to {1} in one plain PUT: the endpoint offers no resumable upload protocol, so an interrupted upload starts again from the beginning.',
    displayName(snapshot),
    uploadHost(snapshot) ?? snapshot.record.url,
  );
}
