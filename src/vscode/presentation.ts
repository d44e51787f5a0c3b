import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  formatBytes,
  formatDuration,
  formatPercent,
  formatSpeed,
  redactUrl,
  totalBytes,
  transferredBytes,
  type TransferSnapshot,
  type TransferState,
} from '../core';
import { localizeError, localizeRestart } from './messages';

/** What one transfer looks like in the tree, the status bar and notifications. */
export function displayName(snapshot: TransferSnapshot): string {
  const record = snapshot.record;
  if (record.kind === 'upload') return path.basename(record.source);
  if (record.target) return path.basename(record.target);
  try {
    const last = new URL(record.url).pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last) : new URL(record.url).host;
  } catch {
    return record.url;
  }
}

export function stateLabel(state: TransferState): string {
  switch (state) {
    case 'queued':
      return vscode.l10n.t('Queued');
    case 'running':
      return vscode.l10n.t('Running');
    case 'paused':
      return vscode.l10n.t('Paused');
    case 'failed':
      return vscode.l10n.t('Failed');
    case 'completed':
      return vscode.l10n.t('Completed');
    case 'cancelled':
      return vscode.l10n.t('Cancelled');
  }
}

export function stateIcon(snapshot: TransferSnapshot): vscode.ThemeIcon {
  const upload = snapshot.record.kind === 'upload';
  switch (snapshot.record.state) {
    case 'running':
      return new vscode.ThemeIcon(upload ? 'cloud-upload' : 'cloud-download', new vscode.ThemeColor('charts.blue'));
    case 'queued':
      return new vscode.ThemeIcon('clock');
    case 'paused':
      return new vscode.ThemeIcon('debug-pause', new vscode.ThemeColor('charts.yellow'));
    case 'failed':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
    case 'completed':
      return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    case 'cancelled':
      return new vscode.ThemeIcon('circle-slash');
  }
}

export function bytesOf(snapshot: TransferSnapshot): { bytes: number; length?: number } {
  const bytes = snapshot.progress?.bytes ?? transferredBytes(snapshot.record);
  return { bytes, length: snapshot.progress?.length ?? totalBytes(snapshot.record) };
}

function sizeText(bytes: number, length: number | undefined): string {
  return length === undefined ? formatBytes(bytes) : vscode.l10n.t('{0} of {1}', formatBytes(bytes), formatBytes(length));
}

/** The row's description: percent, bytes, speed and ETA while running; the reason otherwise. */
export function describe(snapshot: TransferSnapshot): string {
  const { record, progress, held } = snapshot;
  const { bytes, length } = bytesOf(snapshot);
  const percent = formatPercent(bytes, length);
  const parts: string[] = [];
  if (record.kind === 'upload' && record.resumable === false && record.state !== 'completed') {
    parts.push(vscode.l10n.t('cannot resume'));
  }
  if (held === 'running-elsewhere') parts.push(vscode.l10n.t('Running in another window'));
  else if (record.state === 'running') {
    if (percent) parts.push(percent);
    parts.push(sizeText(bytes, length));
    if (progress && progress.bytesPerSecond > 0) parts.push(formatSpeed(progress.bytesPerSecond));
    if (progress?.etaSeconds !== undefined) parts.push(vscode.l10n.t('{0} left', formatDuration(progress.etaSeconds)));
    parts.push(limitText(snapshot));
    return parts.filter(Boolean).join(' · ');
  } else if (record.state === 'failed') {
    parts.push(`${stateLabel('failed')}: ${localizeError(record.lastError)}`);
    if (percent) parts.push(percent);
    return parts.join(' · ');
  } else if (record.state === 'completed') {
    return `${stateLabel('completed')} · ${formatBytes(length ?? bytes)}`;
  } else {
    parts.push(stateLabel(record.state));
    if (held === 'auto-resume-off') parts.push(vscode.l10n.t('auto-resume is off'));
  }
  if (percent) parts.push(percent);
  if (bytes > 0 || length !== undefined) parts.push(sizeText(bytes, length));
  parts.push(limitText(snapshot));
  return parts.filter(Boolean).join(' · ');
}

/** The transfer's own speed limit, shown on its row ("limit 1.0 MiB/s"). */
export function limitText(snapshot: TransferSnapshot): string {
  const limit = snapshot.record.maxBytesPerSecond;
  return limit ? vscode.l10n.t('limit {0}', formatSpeed(limit)) : '';
}

const escape = (text: string) => text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');

export function tooltip(snapshot: TransferSnapshot): vscode.MarkdownString {
  const { record } = snapshot;
  const lines: string[] = [`**${escape(displayName(snapshot))}**`, '', `${escape(stateLabel(record.state))} — ${escape(describe(snapshot))}`, ''];
  const row = (label: string, value: string | undefined) => {
    if (value) lines.push(`- ${escape(label)}: \`${value.replace(/`/g, "'")}\``);
  };
  row(vscode.l10n.t('URL'), redactUrl(record.url));
  if (record.kind === 'download') {
    if (record.finalUrl && record.finalUrl !== record.url) row(vscode.l10n.t('Redirected to'), redactUrl(record.finalUrl));
    row(vscode.l10n.t('Saved as'), record.target ?? record.targetDir);
    row(vscode.l10n.t('ETag'), record.etag);
    row(vscode.l10n.t('Last-Modified'), record.lastModified);
  } else {
    row(vscode.l10n.t('File'), record.source);
    row(vscode.l10n.t('Protocol'), record.protocol);
    row(vscode.l10n.t('Upload URL'), record.uploadUrl ? redactUrl(record.uploadUrl) : undefined);
  }
  const restart = localizeRestart(record.restartCode);
  if (restart) lines.push(`- ${escape(restart)}`);
  if (record.lastError) row(vscode.l10n.t('Last error'), `${localizeError(record.lastError)} (${record.lastError.code})`);
  const markdown = new vscode.MarkdownString(lines.join('\n'));
  markdown.supportThemeIcons = true;
  return markdown;
}
