import * as vscode from 'vscode';
import { formatDuration, formatPercent, formatSpeed, type BandwidthLimits, type TransferManager, type TransferSnapshot } from '../core';
import { StatusBarItemId, Views } from './ids';
import { bytesOf, displayName } from './presentation';

const REFRESH_INTERVAL_MS = 500;

/**
 * Aggregate progress of everything running here: hidden when idle, a warning look when a
 * transfer failed; a click focuses the Transfers view.
 */
export class TransfersStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly manager: TransferManager,
    private readonly bandwidth?: BandwidthLimits,
  ) {
    this.item = vscode.window.createStatusBarItem(StatusBarItemId, vscode.StatusBarAlignment.Left, 50);
    this.item.name = vscode.l10n.t('Transfers');
    this.item.command = `${Views.transfers}.focus`;
    const schedule = () => (this.timer ??= setTimeout(() => this.render(), REFRESH_INTERVAL_MS));
    this.disposables.push(this.item, manager.onDidChange(schedule), manager.onDidProgress(schedule));
    if (bandwidth) this.disposables.push(bandwidth.onDidChange(schedule));
    this.render();
  }

  render(): void {
    this.timer = undefined;
    const snapshots = this.manager.list().filter((s) => !s.held);
    const active = snapshots.filter((s) => s.record.state === 'running' || s.record.state === 'queued');
    const failed = snapshots.filter((s) => s.record.state === 'failed');
    if (active.length === 0 && failed.length === 0) {
      this.item.hide();
      return;
    }
    let bytes = 0;
    let length = 0;
    let lengthKnown = true;
    let speed = 0;
    for (const snapshot of active) {
      const size = bytesOf(snapshot);
      bytes += size.bytes;
      if (size.length === undefined) lengthKnown = false;
      else length += size.length;
      speed += snapshot.progress?.bytesPerSecond ?? 0;
    }
    const parts: string[] = [];
    if (active.length > 0) {
      const percent = lengthKnown ? formatPercent(bytes, length) : undefined;
      const kinds = new Set(active.map((s) => s.record.kind));
      const icon = kinds.size > 1 ? '$(arrow-swap)' : kinds.has('upload') ? '$(cloud-upload)' : '$(cloud-download)';
      parts.push(`${icon} ${percent ?? ''}`.trim());
      if (speed > 0) parts.push(formatSpeed(speed));
      if (lengthKnown && speed > 0) parts.push(formatDuration((length - bytes) / speed));
      parts.push(vscode.l10n.t('{0} active', active.length));
    }
    if (failed.length > 0) parts.push(`$(warning) ${vscode.l10n.t('{0} failed', failed.length)}`);
    this.item.text = parts.join(' · ');
    const summary = vscode.l10n.t('Transfers: {0} active, {1} failed. Click to show the Transfers view.', active.length, failed.length);
    this.item.tooltip = [summary, ...this.limitLines(active)].join('\n');
    this.item.backgroundColor = failed.length > 0 ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: this.item.tooltip };
    this.item.show();
  }

  /** The global limit and the running transfers' own limits, so a slow transfer explains itself. */
  private limitLines(active: TransferSnapshot[]): string[] {
    const lines: string[] = [];
    const global = this.bandwidth?.globalLimit ?? 0;
    if (global > 0) lines.push(vscode.l10n.t('Speed limit for all transfers: {0}', formatSpeed(global)));
    for (const snapshot of active) {
      const own = snapshot.record.maxBytesPerSecond;
      if (own) lines.push(vscode.l10n.t('Speed limit for {0}: {1}', displayName(snapshot), formatSpeed(own)));
    }
    return lines;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.disposables.forEach((d) => d.dispose());
  }
}
