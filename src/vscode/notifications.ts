import * as vscode from 'vscode';
import type { TransferManager, TransferState } from '../core';
import { Commands } from './ids';
import { displayName, failureNotice, fellBackToPlainPut, plainPutNotice, verifiedText } from './presentation';

/**
 * Tells the user when a transfer this window ran completes or fails, with actions. Never modal;
 * restored rows that were already finished stay quiet.
 */
export class TransferNotifications implements vscode.Disposable {
  private readonly lastState = new Map<string, TransferState>();
  /** Uploads whose protocol was still to be detected: a fall-back to plain PUT is said once. */
  private readonly detecting = new Set<string>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly manager: TransferManager) {
    this.subscription = manager.onDidChange((change) => {
      if (!change.snapshot) {
        this.lastState.delete(change.id);
        return;
      }
      const { record, held } = change.snapshot;
      if (record.kind === 'upload' && !held) {
        if (record.protocol === undefined) this.detecting.add(change.id);
        else if (this.detecting.delete(change.id) && fellBackToPlainPut(record)) {
          void vscode.window.showWarningMessage(plainPutNotice(change.snapshot, vscode.l10n));
        }
      }
      const before = this.lastState.get(change.id);
      this.lastState.set(change.id, record.state);
      if (held || before !== 'running' || before === record.state) return;
      if (record.state === 'completed') void this.completed(change.id);
      else if (record.state === 'failed') void this.failed(change.id);
    });
  }

  private async completed(id: string): Promise<void> {
    const snapshot = this.manager.get(id);
    if (!snapshot) return;
    const open = vscode.l10n.t('Open');
    const reveal = vscode.l10n.t('Reveal in Explorer');
    const { record } = snapshot;
    const message =
      record.kind === 'upload'
        ? vscode.l10n.t('Uploaded {0}.', displayName(snapshot))
        : record.serverName !== undefined
          ? vscode.l10n.t(
              'Downloaded {0}. The server named it {1}, a name that tools load by themselves, so it was saved under the safe name.',
              displayName(snapshot),
              record.serverName,
            )
          : vscode.l10n.t('Downloaded {0}.', displayName(snapshot));
    // Which checksum vouched for the bytes: "Verified (sha256 from SHA256SUMS)".
    const verified = record.kind === 'download' ? verifiedText(record.verified, vscode.l10n) : undefined;
    const actions = snapshot.record.kind === 'download' ? [open, reveal] : [];
    const choice = await vscode.window.showInformationMessage(verified ? `${message} ${verified}` : message, ...actions);
    if (choice === open) await vscode.commands.executeCommand(Commands.openFile, id);
    if (choice === reveal) await vscode.commands.executeCommand(Commands.revealInExplorer, id);
  }

  private async failed(id: string): Promise<void> {
    const snapshot = this.manager.get(id);
    if (!snapshot) return;
    const retry = vscode.l10n.t('Retry');
    const log = vscode.l10n.t('Show Log');
    const choice = await vscode.window.showErrorMessage(
      failureNotice(snapshot, vscode.l10n),
      retry,
      log,
    );
    if (choice === retry) await vscode.commands.executeCommand(Commands.retry, id);
    if (choice === log) await vscode.commands.executeCommand(Commands.showLog);
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
