import * as vscode from 'vscode';
import type { BandwidthLimits, TransferManager } from '../core';
import { StatusBarItemId, Views } from './ids';
import { statusSummary } from './statusText';
import type { ViewRefresh } from './viewRefresh';

/**
 * Aggregate progress of everything running here: hidden when idle, a warning look when a
 * transfer failed; a click focuses the Transfers view. Repaints on the view's tick.
 */
export class TransfersStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly manager: TransferManager,
    refresh: ViewRefresh,
    private readonly bandwidth?: BandwidthLimits,
  ) {
    this.item = vscode.window.createStatusBarItem(StatusBarItemId, vscode.StatusBarAlignment.Left, 50);
    this.item.name = vscode.l10n.t('Transfers');
    this.item.command = `${Views.transfers}.focus`;
    this.disposables.push(this.item, refresh.onDidRefresh(() => this.render()));
    if (bandwidth) this.disposables.push(bandwidth.onDidChange(() => this.render()));
    this.render();
  }

  render(): void {
    const summary = statusSummary(this.manager.list(), vscode.l10n, this.bandwidth?.globalLimit ?? 0);
    if (!summary) {
      this.item.hide();
      return;
    }
    this.item.text = summary.text;
    this.item.tooltip = summary.tooltip;
    this.item.backgroundColor = summary.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: summary.tooltip };
    this.item.show();
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
