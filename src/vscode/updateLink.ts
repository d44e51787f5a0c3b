import * as vscode from 'vscode';
import {
  TransferError,
  checkLink,
  continueWithLink,
  redactUrl,
  startOverWithLink,
  transferName,
  type DownloadRecord,
  type HttpClient,
  type LinkComparison,
  type TransferManager,
} from '../core';
import { validateUrls } from './downloadUrl';
import { keepCredentialsSecret, type SavedHeaders } from './savedHeaders';
import { channelLogger } from './log';
import { localizeError } from './messages';
import { parseUrlList } from './urlInput';
import { differenceText, keptBytesText, linkSummary, sameFileText } from './updateLinkText';

export interface UpdateLinkContext {
  manager: TransferManager;
  /** The engine's HTTP stack: the new link is asked the way the download will ask it. */
  http: HttpClient;
  savedHeaders: SavedHeaders;
  log: vscode.LogOutputChannel;
}

/** One link, typed or pasted; the same checks and "Will download http://…" hint as Download URL. */
function validateOneLink(text: string): string | vscode.InputBoxValidationMessage | undefined {
  if (!text.trim()) return vscode.l10n.t('Paste the new http or https link of this file.');
  if (text.trim().split(/\s+/).length > 1) return vscode.l10n.t('Enter one link.');
  return validateUrls(text);
}

async function askForLink(record: DownloadRecord): Promise<string | undefined> {
  const text = await vscode.window.showInputBox({
    title: vscode.l10n.t('Update Link of {0}', transferName(record)),
    prompt: vscode.l10n.t('A new link to the same file, for example a freshly generated share link. The bytes downloaded so far are kept when it serves the same file.'),
    placeHolder: 'https://example.com/file.zip',
    value: '',
    ignoreFocusOut: true,
    validateInput: validateOneLink,
  });
  return text === undefined ? undefined : parseUrlList(text).urls[0];
}

/** Asks the new link what it serves, with a cancellable notification while it answers. */
async function probe(ctx: UpdateLinkContext, record: DownloadRecord, url: string): Promise<LinkComparison | undefined> {
  try {
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Checking the new link…'), cancellable: true },
      (_progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort('cancel'));
        return checkLink(ctx.http, record, url, {
          originHeaders: (target) => ctx.savedHeaders.forUrl(target),
          signal: controller.signal,
          logger: channelLogger(ctx.log),
          tag: `[${record.id}]`,
        });
      },
    );
  } catch (error) {
    const failure = error instanceof TransferError ? error : new TransferError('ERR_INTERNAL', String(error));
    if (failure.code === 'ERR_ABORTED') return undefined;
    ctx.log.warn(`[${record.id}] new link ${redactUrl(url)}: ${failure.code} ${failure.message}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('The new link could not be used: {0}', localizeError(failure.toJSON(), vscode.l10n)));
    return undefined;
  }
}

type Choice = 'continue' | 'startOver' | undefined;

/** Nothing proves the new link serves the same file: show what it serves, let the user choose. */
async function askWhenUnknown(record: DownloadRecord, comparison: LinkComparison): Promise<Choice> {
  const items: Array<vscode.QuickPickItem & { choice: Choice }> = [
    {
      label: `$(debug-continue) ${vscode.l10n.t('Continue (bytes are checked first)')}`,
      detail: vscode.l10n.t('The last bytes on disk are fetched again from the new link and compared before anything is appended.'),
      choice: 'continue',
    },
    { label: `$(debug-restart) ${vscode.l10n.t('Start over')}`, detail: keptBytesText(record, vscode.l10n), choice: 'startOver' },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('The new link serves {0}. Nothing proves it is the same file.', linkSummary(comparison.probe, vscode.l10n)),
    placeHolder: vscode.l10n.t('Continue the download with the new link, or start over?'),
    ignoreFocusOut: true,
  });
  return picked?.choice;
}

/** The new link serves another file: say what differs; start over or leave the download as it is. */
async function askWhenDifferent(record: DownloadRecord, comparison: Extract<LinkComparison, { verdict: 'different' }>): Promise<Choice> {
  const items: Array<vscode.QuickPickItem & { choice: Choice }> = [
    { label: `$(debug-restart) ${vscode.l10n.t('Start over')}`, detail: keptBytesText(record, vscode.l10n), choice: 'startOver' },
    { label: `$(close) ${vscode.l10n.t('Cancel')}`, detail: vscode.l10n.t('Keep the download and its link as they are.'), choice: undefined },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('The new link serves another file: different {0}.', differenceText(record, comparison, vscode.l10n)),
    placeHolder: vscode.l10n.t('Start over with the new link, or cancel?'),
    ignoreFocusOut: true,
  });
  return picked?.choice;
}

/**
 * Update Link…: a paused or failed download gets a new link. Accepted without asking when the
 * new link provably serves the same file; with nothing to compare, the user sees what it serves
 * and chooses to continue (the bytes are checked first) or start over; a different file can only
 * start over. A running download is paused first, so nothing writes while its record changes.
 */
export async function updateLink(ctx: UpdateLinkContext, id: string): Promise<void> {
  const before = ctx.manager.get(id)?.record;
  if (before?.kind !== 'download' || before.state === 'completed' || before.state === 'cancelled') {
    void vscode.window.showInformationMessage(vscode.l10n.t('Only a paused or failed download can get a new link.'));
    return;
  }
  if (before.state === 'running' || before.state === 'queued') await ctx.manager.pause(id);
  const given = await askForLink(before);
  if (!given) return;
  const url = await keepCredentialsSecret(given, ctx.savedHeaders, ctx.log);
  const record = ctx.manager.get(id)?.record;
  if (record?.kind !== 'download') return;
  const comparison = await probe(ctx, record, url);
  if (!comparison) return;
  const name = transferName(record);
  ctx.log.info(`[${id}] new link ${redactUrl(url)}: ${comparison.verdict}${comparison.verdict === 'different' ? ` (${comparison.differs.join(', ')})` : ''}`);
  let choice: Choice;
  if (comparison.verdict === 'same') choice = 'continue';
  else if (comparison.verdict === 'unknown') choice = await askWhenUnknown(record, comparison);
  else choice = await askWhenDifferent(record, comparison);
  if (!choice) {
    ctx.log.info(`[${id}] link kept as it was`);
    return;
  }
  const applied = await ctx.manager.replaceLink(id, (current) =>
    choice === 'continue' ? continueWithLink(current, comparison) : startOverWithLink(current, url, 'the user gave a new link to another file'),
  );
  if (!applied) {
    void vscode.window.showWarningMessage(vscode.l10n.t('{0} could not take the new link: another window is running it.', name));
    return;
  }
  ctx.log.info(`[${id}] ${choice === 'continue' ? 'continues' : 'starts over'} with the new link`);
  if (comparison.verdict === 'same') void vscode.window.showInformationMessage(sameFileText(comparison, vscode.l10n));
}
