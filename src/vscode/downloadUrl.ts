import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferSettings } from './config';
import { parseUrlList } from './urlInput';
import { looksLikeCurl, type CurlDownload } from '../core';
import { curlPreview, readCurl } from './curlPaste';

function validate(text: string): string | vscode.InputBoxValidationMessage | undefined {
  if (!text.trim()) return vscode.l10n.t('Enter one or more http or https URLs, separated by spaces.');
  if (looksLikeCurl(text)) {
    const { curl, problem } = readCurl(text);
    return curl ? { message: curlPreview(curl), severity: vscode.InputBoxValidationSeverity.Info } : problem;
  }
  return validateUrls(text);
}

/**
 * Input box validation for typed URLs: quotes back what is not a URL, and says which URL a text
 * without a scheme was taken as ("Will download http://…"), so a wrong guess is seen before it is used.
 */
export function validateUrls(text: string): string | vscode.InputBoxValidationMessage | undefined {
  const { invalid, assumed } = parseUrlList(text);
  if (invalid !== undefined) return vscode.l10n.t('Not a valid http or https URL: "{0}"', invalid);
  if (assumed.length === 0) return undefined;
  return { message: vscode.l10n.t('Will download {0}', assumed.map((a) => a.url).join(' ')), severity: vscode.InputBoxValidationSeverity.Info };
}

/** What the user asked to download: URLs, or one URL from a pasted cURL command with its headers. */
export interface UrlsToDownload {
  urls: string[];
  curl?: CurlDownload;
}

/** A pasted cURL command downloads its one URL, with its headers. */
export function curlDownload(curl: CurlDownload): UrlsToDownload {
  return { urls: [new URL(curl.url).toString()], curl };
}

/**
 * The URLs to download, asked with an input box pre-filled from the clipboard when it holds URLs
 * or a "Copy as cURL" command.
 */
export async function askForUrls(): Promise<UrlsToDownload | undefined> {
  let clipboard = '';
  // In the browser, reading the clipboard needs a permission prompt that can stall the input box.
  if (vscode.env.uiKind !== vscode.UIKind.Web) {
    try {
      clipboard = (await vscode.env.clipboard.readText()).trim();
    } catch {
      // No clipboard access: start empty.
    }
  }
  const parsed = clipboard && clipboard.length < 10_000 ? parseUrlList(clipboard) : undefined;
  // Only real URLs: any copied word with a dot would pass as a URL without a scheme.
  const curlOnClipboard = looksLikeCurl(clipboard) && readCurl(clipboard).curl !== undefined;
  const prefill = curlOnClipboard || (parsed && parsed.invalid === undefined && parsed.assumed.length === 0) ? clipboard : '';
  const text = await vscode.window.showInputBox({
    title: vscode.l10n.t('Download URL'),
    prompt: vscode.l10n.t('One or more http or https URLs, separated by spaces, or a command copied with "Copy as cURL". Each URL becomes its own download.'),
    placeHolder: 'https://example.com/file.zip',
    value: prefill,
    ignoreFocusOut: true,
    validateInput: validate,
  });
  if (text === undefined) return undefined;
  if (looksLikeCurl(text)) {
    const { curl } = readCurl(text);
    return curl ? curlDownload(curl) : undefined;
  }
  return { urls: parseUrlList(text).urls };
}

/**
 * The folder downloads go into: the configured folder in the first workspace folder, or a folder
 * the user picks when there is no workspace or the settings ask for it.
 *
 * The dialog opens on the machine the extension runs on (in a remote window: the remote). A
 * `file` URI made here is translated by VS Code into the remote's scheme for the dialog, and the
 * pick comes back as a `file` URI; anything else (a local folder picked from a remote window) is
 * not on this machine and is refused.
 */
export async function chooseDownloadFolder(settings: TransferSettings): Promise<string | undefined> {
  const workspace = vscode.workspace.workspaceFolders?.find((folder) => folder.uri.scheme === 'file');
  if (workspace && !settings.askForFolder) {
    const root = workspace.uri.fsPath;
    if (!settings.downloadFolder) return root;
    return path.isAbsolute(settings.downloadFolder) ? settings.downloadFolder : path.join(root, settings.downloadFolder);
  }
  if (!workspace && settings.downloadFolder && path.isAbsolute(settings.downloadFolder) && !settings.askForFolder) {
    return settings.downloadFolder;
  }
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: workspace?.uri ?? vscode.Uri.file(os.homedir()),
    openLabel: vscode.l10n.t('Download Here'),
    title: vscode.l10n.t('Folder for the download'),
  });
  const folder = picked?.[0];
  if (folder && folder.scheme !== 'file') {
    void vscode.window.showErrorMessage(vscode.l10n.t('Downloads go to the machine this window works on: choose a folder there.'));
    return undefined;
  }
  return folder?.fsPath;
}
