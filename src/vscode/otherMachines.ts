import * as vscode from 'vscode';
import { isOnAnotherMachine, redactUrl, type TransferSnapshot } from '../core';
import { describe, displayName } from './presentation';

/**
 * Rows of transfers whose bytes are on another machine (globalState is shared by local and
 * remote windows): shown with where they live, never run here. The only action is Remove from
 * List, which asks first.
 */

/** contextValue prefix of such rows; package.json offers only Remove on it. */
export const OTHER_MACHINE_CONTEXT = 'onOtherMachine';

function whereText(snapshot: TransferSnapshot): string {
  return snapshot.record.machine ? vscode.l10n.t('on {0}', snapshot.record.machine.label) : vscode.l10n.t('machine unknown');
}

/** Turns a tree row into the row of another machine's transfer: where it is, its saved state, no click action. */
export function otherMachineTreeItem(snapshot: TransferSnapshot): vscode.TreeItem {
  const { record } = snapshot;
  const item = new vscode.TreeItem(displayName(snapshot), vscode.TreeItemCollapsibleState.None);
  item.id = record.id;
  item.description = `${whereText(snapshot)} · ${describe(snapshot, vscode.l10n)}`;
  item.iconPath = new vscode.ThemeIcon('remote', new vscode.ThemeColor('disabledForeground'));
  item.contextValue = `${OTHER_MACHINE_CONTEXT}.${record.kind}.${record.state}`;
  // appendText escapes: file names and URLs come from servers.
  const tooltip = new vscode.MarkdownString().appendMarkdown('**').appendText(displayName(snapshot)).appendMarkdown('**\n\n');
  tooltip.appendText(explanation(snapshot)).appendMarkdown('\n\n').appendText(redactUrl(record.url));
  item.tooltip = tooltip;
  item.accessibilityInformation = { label: `${item.label as string} ${item.description}` };
  return item;
}

/** Why nothing but Remove works on such a row. */
export function explanation(snapshot: TransferSnapshot): string {
  return snapshot.record.machine
    ? vscode.l10n.t('Its data is on {0}. Open a window on that machine to resume, pause or cancel it.', snapshot.record.machine.label)
    : vscode.l10n.t('It was saved before transfers named their machine, and its data was not found here. A window on the machine that has it will take it over.');
}

/** Shown when a command reaches such a transfer some other way (palette, keybinding, another extension). */
export function refuseOnOtherMachine(snapshot: TransferSnapshot): void {
  void vscode.window.showInformationMessage(`${displayName(snapshot)}: ${explanation(snapshot)}`);
}

/**
 * Asks before removing another machine's transfer from the list, and says that its data stays
 * there. Modal because it cannot be undone from this window.
 */
export async function confirmRemoveFromList(snapshot: TransferSnapshot): Promise<boolean> {
  if (!isOnAnotherMachine(snapshot)) return true;
  const remove = vscode.l10n.t('Remove from List');
  const detail = snapshot.record.machine
    ? vscode.l10n.t('Its data stays on {0}; only the entry in this list is removed.', snapshot.record.machine.label)
    : vscode.l10n.t('Its data stays on the machine it was started on; only the entry in this list is removed.');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t('Remove {0} from the list?', displayName(snapshot)),
    { modal: true, detail },
    remove,
  );
  return choice === remove;
}
