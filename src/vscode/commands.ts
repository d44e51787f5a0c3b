import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import {
  formatRate,
  isOnAnotherMachine,
  newDownloadRecord,
  parseRate,
  type HttpClient,
  type TransferManager,
  type TransferSnapshot,
  type TransferState,
} from '../core';
import type { TransferSettings } from './config';
import { askForUrls, chooseDownloadFolder, curlDownload, type UrlsToDownload } from './downloadUrl';
import { keepCurlHeaders, readCurl } from './curlPaste';
import { parseUrlList, urlAt, urlsInText } from './urlInput';
import { keepCredentialsSecret, type SavedHeaders } from './savedHeaders';
import { setOriginHeader } from './setOriginHeader';
import { Commands } from './ids';
import { confirmRemoveFromList, refuseOnOtherMachine } from './otherMachines';
import { describe, displayName } from './presentation';
import { linkMayHaveExpired, revealTargetOf } from './reveal';
import { updateLink } from './updateLink';

export interface CommandContext {
  manager: TransferManager;
  /** The engine's HTTP stack, for what a command asks a server itself (Update Link… checks the new link). */
  http: HttpClient;
  settings(): TransferSettings;
  savedHeaders: SavedHeaders;
  log: vscode.LogOutputChannel;
}

/** Arguments other extensions and tests may pass instead of answering the prompts. */
export interface DownloadUrlArgs {
  urls?: string[];
  /** A command copied with "Copy as cURL", read as the Download URL box reads it (its headers are kept for its origin). */
  curl?: string;
  folder?: string;
  sha256?: string;
}

/** The transfers a command applies to: by state (undefined: all), or any test of the row. */
type Applies = TransferState[] | undefined | ((snapshot: TransferSnapshot) => boolean);

/**
 * A row's command gets the transfer id from the tree; from the palette (or a keybinding) it asks
 * with a quick pick of the transfers it applies to.
 */
async function resolveIds(ctx: CommandContext, arg: unknown, applies: Applies, title: string, otherMachines = false): Promise<string[]> {
  if (typeof arg === 'string') return [arg];
  const fits = typeof applies === 'function' ? applies : (s: TransferSnapshot) => !applies || applies.includes(s.record.state);
  const candidates = ctx.manager
    .list()
    .filter((s) => fits(s) && (otherMachines || !isOnAnotherMachine(s)));
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('There is no transfer this applies to.'));
    return [];
  }
  const picked = await vscode.window.showQuickPick(
    candidates.map((s: TransferSnapshot) => ({ label: displayName(s), description: describe(s, vscode.l10n), id: s.record.id })),
    { title, canPickMany: false, matchOnDescription: true },
  );
  return picked ? [picked.id] : [];
}

/**
 * A row command. A transfer whose data is on another machine is never acted on here, however the
 * command was reached (row, palette, keybinding, another extension): the user is told why.
 */
function onRows(ctx: CommandContext, states: Applies, title: () => string, action: (id: string) => Promise<void>) {
  return async (arg?: unknown) => {
    for (const id of await resolveIds(ctx, arg, states, title())) {
      const snapshot = ctx.manager.get(id);
      if (snapshot && isOnAnotherMachine(snapshot)) refuseOnOtherMachine(snapshot);
      else await action(id);
    }
  };
}

/** Remove from List, the one action on another machine's transfer: it asks first there. */
function removeFromList(ctx: CommandContext) {
  return async (arg?: unknown) => {
    for (const id of await resolveIds(ctx, arg, undefined, vscode.l10n.t('Remove which transfer from the list?'), true)) {
      const snapshot = ctx.manager.get(id);
      if (snapshot && (await confirmRemoveFromList(snapshot))) await ctx.manager.remove(id);
    }
  };
}

function urlsFromArgs(args: DownloadUrlArgs): UrlsToDownload | undefined {
  if (args.curl === undefined) return { urls: parseUrlList((args.urls ?? []).join(' ')).urls };
  const { curl, problem } = readCurl(args.curl);
  if (curl) return curlDownload(curl);
  if (problem) void vscode.window.showErrorMessage(problem);
  return undefined;
}

export async function startDownloads(ctx: CommandContext, args?: DownloadUrlArgs): Promise<string[]> {
  const asked = args ? urlsFromArgs(args) : await askForUrls();
  const urls = asked?.urls;
  if (!urls || urls.length === 0) return [];
  if (asked?.curl) await keepCurlHeaders(asked.curl, ctx.savedHeaders, ctx.log);
  const settings = ctx.settings();
  const folder = args?.folder ?? (await chooseDownloadFolder(settings));
  if (!folder) return [];
  const ids: string[] = [];
  for (const given of urls) {
    const url = await keepCredentialsSecret(given, ctx.savedHeaders, ctx.log);
    const record = newDownloadRecord({
      id: ctx.manager.newId(),
      url,
      targetDir: folder,
      sha256: args?.sha256,
      connections: settings.connections,
      onExisting: settings.onExisting,
      now: Date.now(),
    });
    await ctx.manager.add(record);
    ctx.log.info(`[${record.id}] queued download into ${folder}`);
    ids.push(record.id);
  }
  return ids;
}

/**
 * Retries a transfer. When the server answered 403, 404 or 410 the link itself may be stale:
 * then the user may give a new one instead, where the "Update Link…" command exists.
 */
async function retry(ctx: CommandContext, id: string): Promise<void> {
  const record = ctx.manager.get(id)?.record;
  if (record && linkMayHaveExpired(record) && (await vscode.commands.getCommands(true)).includes(Commands.updateLink)) {
    const again = vscode.l10n.t('Retry with the same link');
    const update = vscode.l10n.t('Update Link…');
    const picked = await vscode.window.showQuickPick([again, update], {
      title: vscode.l10n.t('The server answered HTTP status {0}: the link may have expired or moved.', record.lastError?.status ?? ''),
    });
    if (picked === update) return void (await vscode.commands.executeCommand(Commands.updateLink, id));
    if (picked !== again) return;
  }
  await ctx.manager.retry(id);
}

/** Removes every failed row at once (their partial data goes with them), and the "N failed" item with them. */
async function clearFailed(ctx: CommandContext): Promise<void> {
  const failed = ctx.manager.list().filter((s) => s.record.state === 'failed' && !s.held);
  for (const snapshot of failed) await ctx.manager.remove(snapshot.record.id);
  ctx.log.info(`cleared ${failed.length} failed transfer(s)`);
}

async function revealPath(target: string): Promise<void> {
  const uri = vscode.Uri.file(target);
  if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
  else await vscode.commands.executeCommand('revealFileInOS', uri);
}

/**
 * Download Link (editor context menu): every URL in the selections, or the one under the cursor.
 * Says so when there is none, instead of doing nothing.
 */
async function downloadLinks(ctx: CommandContext): Promise<string[]> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return [];
  const { document } = editor;
  const selected = editor.selections.filter((s) => !s.isEmpty).map((s) => document.getText(s));
  const urls =
    selected.length > 0
      ? urlsInText(selected.join('\n'))
      : [urlAt(document.lineAt(editor.selection.active.line).text, editor.selection.active.character)].filter((u): u is string => u !== undefined);
  if (urls.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No http or https link under the cursor or in the selection.'));
    return [];
  }
  return startDownloads(ctx, { urls });
}

/** Asks for a speed in curl's syntax; 0 or nothing lifts the limit. Undefined when dismissed. */
async function askForLimit(current: number | undefined, name: string): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title: vscode.l10n.t('Limit Speed of {0}', name),
    prompt: vscode.l10n.t('Bytes per second, written as in curl: 500K, 4M, 1G (K = 1024). 0 or empty removes the limit.'),
    placeHolder: '4M',
    value: current ? formatRate(current) : '',
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() === '' || parseRate(value) !== undefined ? undefined : vscode.l10n.t('Enter a speed such as 500K, 4M or 1G, or 0 for no limit.')),
  });
  if (text === undefined) return undefined;
  return text.trim() === '' ? 0 : parseRate(text);
}

async function limitSpeed(ctx: CommandContext, id: string): Promise<void> {
  const snapshot = ctx.manager.get(id);
  if (!snapshot) return;
  const limit = await askForLimit(snapshot.record.maxBytesPerSecond, displayName(snapshot));
  if (limit === undefined) return;
  await ctx.manager.setSpeedLimit(id, limit);
  ctx.log.info(`[${id}] speed limit ${limit > 0 ? `${limit} bytes/s` : 'removed'}`);
}

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const { manager } = ctx;
  const target = (id: string) => {
    const record = manager.get(id)?.record;
    return record?.kind === 'download' ? record.target : record?.source;
  };
  const register = (id: string, handler: (...args: never[]) => unknown) => vscode.commands.registerCommand(id, handler);
  return [
    register(Commands.downloadUrl, (args?: DownloadUrlArgs) => startDownloads(ctx, args && (Array.isArray(args.urls) || typeof args.curl === 'string') ? args : undefined)),
    register(Commands.pause, onRows(ctx, ['running', 'queued'], () => vscode.l10n.t('Pause which transfer?'), (id) => manager.pause(id))),
    register(Commands.resume, onRows(ctx, ['paused', 'failed'], () => vscode.l10n.t('Resume which transfer?'), (id) => manager.resume(id))),
    register(Commands.cancel, onRows(ctx, ['running', 'queued', 'paused', 'failed'], () => vscode.l10n.t('Cancel which transfer?'), (id) => manager.cancel(id))),
    register(Commands.retry, onRows(ctx, ['failed', 'cancelled', 'paused'], () => vscode.l10n.t('Retry which transfer?'), (id) => retry(ctx, id))),
    register(Commands.remove, removeFromList(ctx)),
    register(
      Commands.updateLink,
      onRows(ctx, (s) => s.record.kind === 'download' && (s.record.state === 'paused' || s.record.state === 'failed'), () => vscode.l10n.t('Update the link of which download?'), (id) => updateLink(ctx, id)),
    ),
    register(
      Commands.openFile,
      onRows(ctx, ['completed'], () => vscode.l10n.t('Open which file?'), async (id) => {
        const file = target(id);
        if (file) await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file));
      }),
    ),
    register(
      Commands.revealInExplorer,
      onRows(ctx, undefined, () => vscode.l10n.t('Reveal which file?'), async (id) => {
        const record = manager.get(id)?.record;
        if (record) await revealPath(revealTargetOf(record, existsSync));
      }),
    ),
    register(
      Commands.copyUrl,
      onRows(ctx, undefined, () => vscode.l10n.t('Copy the URL of which transfer?'), async (id) => {
        const url = manager.get(id)?.record.url;
        if (url) await vscode.env.clipboard.writeText(url);
      }),
    ),
    register(Commands.pauseAll, () => manager.pauseAll()),
    register(Commands.resumeAll, () => manager.resumeAll()),
    register(Commands.clearFinished, () => manager.clearFinished()),
    register(Commands.clearFailed, () => clearFailed(ctx)),
    register(Commands.setHostHeader, (arg?: unknown) => setOriginHeader(ctx, arg)),
    register(Commands.showLog, () => ctx.log.show()),
    register(Commands.downloadLink, () => downloadLinks(ctx)),
    register(
      Commands.limitSpeed,
      onRows(ctx, ['running', 'queued', 'paused', 'failed'], () => vscode.l10n.t('Limit the speed of which transfer?'), (id) => limitSpeed(ctx, id)),
    ),
  ];
}
