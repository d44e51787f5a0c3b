import { formatBytes, formatDuration, formatSpeed, type TransferSnapshot } from '../core';
import type { L10n } from './messages';
import { bytesOf, displayName, percentOf } from './presentation';

export interface StatusSummary {
  text: string;
  tooltip: string;
  /** A transfer failed: the item takes the warning colours. */
  warning: boolean;
}

/**
 * The status bar's words for the transfers this window runs, or undefined when there is nothing
 * to show. Running and queued are counted apart, so a row that says "Queued" is never counted
 * "active"; the percentage comes from the same function as the row's, and a part that is unknown
 * (an unknown size) is left out whole rather than leaving a separator behind.
 */
export function statusSummary(snapshots: readonly TransferSnapshot[], l10n: L10n, globalLimit = 0): StatusSummary | undefined {
  const mine = snapshots.filter((s) => !s.held);
  const running = mine.filter((s) => s.record.state === 'running');
  const queued = mine.filter((s) => s.record.state === 'queued');
  const failed = mine.filter((s) => s.record.state === 'failed');
  if (running.length === 0 && queued.length === 0 && failed.length === 0) return undefined;

  const parts: string[] = [];
  if (running.length > 0) {
    let bytes = 0;
    let length = 0;
    let lengthKnown = true;
    let speed = 0;
    for (const snapshot of running) {
      const size = bytesOf(snapshot);
      bytes += size.bytes;
      if (size.length === undefined) lengthKnown = false;
      else length += size.length;
      speed += snapshot.progress?.bytesPerSecond ?? 0;
    }
    const kinds = new Set(running.map((s) => s.record.kind));
    const icon = kinds.size > 1 ? '$(arrow-swap)' : kinds.has('upload') ? '$(cloud-upload)' : '$(cloud-download)';
    // With an unknown size the bytes so far stand where the percentage would.
    const amount = (lengthKnown ? percentOf(bytes, length) : undefined) ?? formatBytes(bytes);
    parts.push(`${icon} ${amount}`);
    if (speed > 0) parts.push(formatSpeed(speed));
    if (lengthKnown && speed > 0) parts.push(l10n.t('{0} left', formatDuration((length - bytes) / speed)));
    parts.push(l10n.t('{0} running', running.length));
  }
  if (queued.length > 0) parts.push(running.length > 0 ? l10n.t('{0} queued', queued.length) : `$(clock) ${l10n.t('{0} queued', queued.length)}`);
  if (failed.length > 0) parts.push(`$(warning) ${l10n.t('{0} failed', failed.length)}`);
  const tooltip = [l10n.t('Transfers: {0} running, {1} queued, {2} failed. Click to show the Transfers view.', running.length, queued.length, failed.length)];
  // The limits, so that a slow transfer explains itself.
  if (globalLimit > 0) tooltip.push(l10n.t('Speed limit for all transfers: {0}', formatSpeed(globalLimit)));
  for (const snapshot of [...running, ...queued]) {
    const own = snapshot.record.maxBytesPerSecond;
    if (own) tooltip.push(l10n.t('Speed limit for {0}: {1}', displayName(snapshot), formatSpeed(own)));
  }
  return {
    text: parts.join(' · '),
    tooltip: tooltip.join('\n'),
    warning: failed.length > 0,
  };
}
