import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { BandwidthLimits, ExchangeLogs, TransferManager } from '../../core';
import { describe, displayName } from '../presentation';
import { detailsModel, restartOf, type StoryItem } from './detailsModel';
import { SpeedHistory } from './speedHistory';

/** How often an open, visible panel repaints at most (also the speed graph's sampling step). */
const UPDATE_INTERVAL_MS = 1000;
/** Restart notes kept per panel. */
const MAX_NOTES = 50;
export const DETAILS_VIEW_TYPE = 'resumableTransfers.details';

/**
 * "Show Details": one webview panel per transfer with its piece map, speed graph and request
 * story, repainted at most once a second while visible. A closed panel holds no subscription and
 * no timer; a hidden one only listens.
 */
export class DetailsPanels implements vscode.Disposable {
  private readonly open = new Map<string, DetailsPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly manager: TransferManager,
    private readonly exchanges: ExchangeLogs,
    private readonly bandwidth: BandwidthLimits | undefined,
  ) {}

  show(id: string): void {
    const existing = this.open.get(id);
    if (existing) {
      existing.reveal();
      return;
    }
    if (!this.manager.get(id)) return;
    const panel = new DetailsPanel(id, this.extensionUri, this.manager, this.exchanges, this.bandwidth, () => this.open.delete(id));
    this.open.set(id, panel);
  }

  dispose(): void {
    for (const panel of [...this.open.values()]) panel.dispose();
  }
}

class DetailsPanel implements vscode.Disposable {
  private readonly panel: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly speed = new SpeedHistory();
  private readonly notes: StoryItem[] = [];
  private lastRestart?: string;
  private timer?: NodeJS.Timeout;
  private lastUpdate = 0;
  private closed = false;

  constructor(
    private readonly id: string,
    private readonly extensionUri: vscode.Uri,
    private readonly manager: TransferManager,
    private readonly exchanges: ExchangeLogs,
    private readonly bandwidth: BandwidthLimits | undefined,
    private readonly onClosed: () => void,
  ) {
    const snapshot = manager.get(id);
    const title = snapshot ? vscode.l10n.t('Details: {0}', displayName(snapshot)) : vscode.l10n.t('Details');
    const media = vscode.Uri.joinPath(extensionUri, 'media');
    this.panel = vscode.window.createWebviewPanel(DETAILS_VIEW_TYPE, title, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [media],
    });
    this.panel.webview.html = this.html();
    this.lastRestart = snapshot?.record.restartReason;
    const log = exchanges.forTransfer(id);
    this.disposables.push(
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.onDidChangeViewState(() => this.schedule()),
      this.panel.webview.onDidReceiveMessage((message: { type?: string }) => {
        if (message?.type === 'ready') this.update();
      }),
      manager.onDidChange((change) => {
        if (change.id !== id) return;
        if (!change.snapshot) {
          this.panel.dispose();
          return;
        }
        this.noteRestart();
        this.schedule();
      }),
      manager.onDidProgress((progress) => {
        if (progress.id === id) this.schedule();
      }),
      log.onDidAppend(() => this.schedule()),
    );
    if (bandwidth) this.disposables.push(bandwidth.onDidChange(() => this.schedule()));
  }

  reveal(): void {
    this.panel.reveal();
  }

  /** A new restart reason in the record is a line of the story. */
  private noteRestart(): void {
    const record = this.manager.get(this.id)?.record;
    if (!record || record.restartReason === this.lastRestart) return;
    this.lastRestart = record.restartReason;
    const note = restartOf(record.restartCode, record.restartReason, Date.now(), vscode.l10n);
    if (note) this.notes.push(note);
    if (this.notes.length > MAX_NOTES) this.notes.shift();
  }

  /** Throttled: at most one repaint a second, none while hidden. */
  private schedule(): void {
    if (!this.panel.visible || this.timer) return;
    const wait = Math.max(0, this.lastUpdate + UPDATE_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, wait);
  }

  private update(): void {
    const snapshot = this.manager.get(this.id);
    if (!snapshot || !this.panel.visible) return;
    const now = Date.now();
    this.lastUpdate = now;
    this.speed.add(snapshot, now);
    const log = this.exchanges.get(this.id);
    const model = detailsModel(
      {
        snapshot,
        exchanges: log?.list() ?? [],
        droppedRequests: log?.dropped ?? 0,
        samples: this.speed.list(),
        active: this.speed.activeConnections(),
        colours: this.speed.connectionColours(),
        notes: this.notes,
        globalLimit: this.bandwidth?.globalLimit ?? 0,
        now,
      },
      vscode.l10n,
    );
    void this.panel.webview.postMessage({ type: 'model', model });
    // Keep sampling while the transfer runs: the graph needs points even when nothing else changes.
    if (snapshot.record.state === 'running') this.schedule();
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'details.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'details.css'));
    const csp = [`default-src 'none'`, `style-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`, `img-src ${webview.cspSource}`].join('; ');
    const lang = vscode.env.language;
    return `<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>${vscode.l10n.t('Details')}</title>
</head>
<body>
<main id="details"></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.disposables.forEach((d) => d.dispose());
    this.disposables.length = 0;
    this.panel.dispose();
    this.onClosed();
  }
}

/** The command: a row passes its id; from the palette, a pick of the transfers. */
export async function showDetails(manager: TransferManager, panels: DetailsPanels, arg: unknown): Promise<void> {
  let id = typeof arg === 'string' ? arg : undefined;
  if (!id) {
    const picked = await vscode.window.showQuickPick(
      manager.list().map((s) => ({ label: displayName(s), description: describe(s, vscode.l10n), id: s.record.id })),
      { title: vscode.l10n.t('Show the details of which transfer?') },
    );
    id = picked?.id;
  }
  if (id) panels.show(id);
}
