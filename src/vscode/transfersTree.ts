import * as vscode from 'vscode';
import { isOnAnotherMachine, type TransferManager, type TransferSnapshot } from '../core';
import { Views } from './ids';
import { otherMachineTreeItem } from './otherMachines';
import { describe, displayName, tooltipMarkdown } from './presentation';
import type { ViewRefresh } from './viewRefresh';

/** The row's icon: the state, and for uploads the direction (a finished upload is not a finished download). */
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
      return new vscode.ThemeIcon(upload ? 'cloud-upload' : 'pass', new vscode.ThemeColor('testing.iconPassed'));
    case 'cancelled':
      return new vscode.ThemeIcon('circle-slash');
  }
}

/**
 * The Transfers view: one row per transfer, keyed by transfer id. Repaints on the shared refresh
 * tick; only the rows that changed repaint, adding or removing a row refreshes the list.
 */
export class TransfersTree implements vscode.TreeDataProvider<string>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<string | string[] | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  readonly view: vscode.TreeView<string>;
  private readonly disposables: vscode.Disposable[] = [];
  private known = new Set<string>();

  constructor(
    private readonly manager: TransferManager,
    refresh: ViewRefresh,
    /** Dropped links become downloads. */
    dragAndDropController?: vscode.TreeDragAndDropController<string>,
  ) {
    this.view = vscode.window.createTreeView(Views.transfers, { treeDataProvider: this, showCollapseAll: false, dragAndDropController });
    this.disposables.push(
      this.view,
      this.changeEmitter,
      refresh.onDidRefresh((event) => {
        if (event.structure) this.changeEmitter.fire(undefined);
        else this.changeEmitter.fire([...event.ids].filter((id) => this.known.has(id)));
        this.updateBadge();
      }),
    );
    this.updateBadge();
  }

  getChildren(element?: string): string[] {
    if (element) return [];
    const ids = this.manager.list().map((snapshot) => snapshot.record.id);
    this.known = new Set(ids);
    return ids;
  }

  getTreeItem(id: string): vscode.TreeItem {
    const snapshot = this.manager.get(id);
    if (snapshot && isOnAnotherMachine(snapshot)) return otherMachineTreeItem(snapshot);
    const item = new vscode.TreeItem(snapshot ? displayName(snapshot) : id, vscode.TreeItemCollapsibleState.None);
    item.id = id;
    if (!snapshot) return item;
    const { record } = snapshot;
    const now = Date.now();
    item.description = describe(snapshot, vscode.l10n, now);
    const tooltip = new vscode.MarkdownString(tooltipMarkdown(snapshot, vscode.l10n, now));
    tooltip.supportThemeIcons = true;
    item.tooltip = tooltip;
    item.iconPath = stateIcon(snapshot);
    const remote = snapshot.held === 'running-elsewhere' ? '.elsewhere' : '';
    item.contextValue = `transfer.${record.kind}.${record.state}${remote}`;
    item.accessibilityInformation = { label: `${item.label as string} ${item.description}` };
    if (record.kind === 'download' && record.state === 'completed' && record.target) {
      item.resourceUri = vscode.Uri.file(record.target);
      item.command = { command: 'vscode.open', title: vscode.l10n.t('Open File'), arguments: [item.resourceUri] };
    }
    return item;
  }

  private updateBadge(): void {
    const active = this.manager.activeCount();
    this.view.badge = active > 0 ? { value: active, tooltip: vscode.l10n.t('{0} active transfers', active) } : undefined;
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
