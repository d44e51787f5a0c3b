import * as vscode from 'vscode';
import { isOnAnotherMachine, type TransferChange, type TransferManager } from '../core';
import { Views } from './ids';
import { otherMachineTreeItem } from './otherMachines';
import { describe, displayName, stateIcon, tooltip } from './presentation';

/** How often rows may repaint at most: smooth enough, cheap for the renderer. */
const REFRESH_INTERVAL_MS = 300;

/**
 * The Transfers view: one row per transfer, keyed by transfer id. Changes are batched and only
 * the rows that changed repaint; adding or removing a row refreshes the list.
 */
export class TransfersTree implements vscode.TreeDataProvider<string>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<string | string[] | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  readonly view: vscode.TreeView<string>;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly dirty = new Set<string>();
  private structureChanged = false;
  private timer?: NodeJS.Timeout;
  private known = new Set<string>();

  constructor(private readonly manager: TransferManager) {
    this.view = vscode.window.createTreeView(Views.transfers, { treeDataProvider: this, showCollapseAll: false });
    this.disposables.push(
      this.view,
      this.changeEmitter,
      manager.onDidChange((change) => this.onChange(change)),
      manager.onDidProgress((progress) => this.markDirty(progress.id)),
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
    item.description = describe(snapshot);
    item.tooltip = tooltip(snapshot);
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

  private onChange(change: TransferChange): void {
    if (!change.snapshot || !this.known.has(change.id)) this.structureChanged = true;
    this.markDirty(change.id);
  }

  private markDirty(id: string): void {
    this.dirty.add(id);
    this.timer ??= setTimeout(() => this.flush(), REFRESH_INTERVAL_MS);
  }

  private flush(): void {
    this.timer = undefined;
    if (this.structureChanged) this.changeEmitter.fire(undefined);
    else this.changeEmitter.fire([...this.dirty].filter((id) => this.known.has(id)));
    this.structureChanged = false;
    this.dirty.clear();
    this.updateBadge();
  }

  private updateBadge(): void {
    const active = this.manager.activeCount();
    this.view.badge = active > 0 ? { value: active, tooltip: vscode.l10n.t('{0} active transfers', active) } : undefined;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.disposables.forEach((d) => d.dispose());
  }
}
