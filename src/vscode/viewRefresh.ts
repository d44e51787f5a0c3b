import * as vscode from 'vscode';
import type { TransferManager } from '../core';
import { listChanged } from './listChanged';
import { pendingRetry } from './presentation';

/** How often the view and the status bar may repaint at most: smooth enough, cheap for the renderer. */
const REFRESH_INTERVAL_MS = 300;
/** A retry countdown ("Retrying in 4 s") needs a repaint every second even when nothing else changes. */
const COUNTDOWN_INTERVAL_MS = 1000;

export interface RefreshEvent {
  /** Transfers whose rows changed. */
  ids: ReadonlySet<string>;
  /** A transfer was added or removed: the list itself changed. */
  structure: boolean;
}

/**
 * One clock for everything that shows transfers. The Transfers view and the status bar repaint on
 * the same tick from the same manager state, so they never show two different percentages.
 */
export class ViewRefresh implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<RefreshEvent>();
  readonly onDidRefresh = this.emitter.event;
  private readonly dirty = new Set<string>();
  private known = new Set<string>();
  private structure = false;
  private timer?: NodeJS.Timeout;
  private countdown?: NodeJS.Timeout;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly manager: TransferManager) {
    this.known = new Set(manager.list().map((s) => s.record.id));
    this.disposables.push(
      this.emitter,
      manager.onDidChange((change) => {
        if (!change.snapshot || !this.known.has(change.id)) this.structure = true;
        this.mark(change.id);
      }),
      manager.onDidProgress((progress) => this.mark(progress.id)),
    );
  }

  private mark(id: string): void {
    this.dirty.add(id);
    this.timer ??= setTimeout(() => this.flush(), REFRESH_INTERVAL_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const snapshots = this.manager.list();
    const ids = snapshots.map((s) => s.record.id);
    const structure = this.structure || listChanged(this.known, ids);
    this.known = new Set(ids);
    const event: RefreshEvent = { ids: new Set(this.dirty), structure };
    this.dirty.clear();
    this.structure = false;
    this.emitter.fire(event);
    const now = Date.now();
    const counting = snapshots.filter((s) => pendingRetry(s, now)).map((s) => s.record.id);
    clearTimeout(this.countdown);
    this.countdown = counting.length > 0 ? setTimeout(() => counting.forEach((id) => this.mark(id)), COUNTDOWN_INTERVAL_MS) : undefined;
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearTimeout(this.countdown);
    this.disposables.forEach((d) => d.dispose());
  }
}
