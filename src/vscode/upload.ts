import * as path from 'node:path';
import * as vscode from 'vscode';
import { createUploadRecord, originOf, parseHeaderLine, parseHttpUrl, redactUrl, type TransferManager, type UploadProtocolChoice } from '../core';
import { keepCredentialsSecret, type SavedHeaders } from './savedHeaders';
import { StateKeys } from './ids';

/** An endpoint the user uploaded to before; headers for it live in SecretStorage, not here. */
export interface RememberedEndpoint {
  url: string;
  protocol: UploadProtocolChoice;
  lastUsed: number;
}

const MAX_REMEMBERED = 20;
/**
 * Bytes per request for uploads started in the editor. The server's offset is what the record
 * may count, and it is only known after a request ends: pieces keep a paused or reloaded upload's
 * progress close to the truth, at the cost of one round trip per piece.
 */
const EDITOR_CHUNK_BYTES = 16 * 1024 * 1024;

export class UploadEndpoints {
  constructor(private readonly memento: vscode.Memento) {}

  list(): RememberedEndpoint[] {
    const raw = this.memento.get<unknown>(StateKeys.endpoints);
    if (!Array.isArray(raw)) return [];
    return raw
      .filter((e): e is RememberedEndpoint => typeof e?.url === 'string' && typeof e?.protocol === 'string' && typeof e?.lastUsed === 'number')
      .sort((a, b) => b.lastUsed - a.lastUsed);
  }

  async remember(url: string, protocol: UploadProtocolChoice): Promise<void> {
    const others = this.list().filter((e) => e.url !== url);
    await this.memento.update(StateKeys.endpoints, [{ url, protocol, lastUsed: Date.now() }, ...others].slice(0, MAX_REMEMBERED));
  }

  async forget(url: string): Promise<void> {
    await this.memento.update(StateKeys.endpoints, this.list().filter((e) => e.url !== url));
  }
}

function protocolLabel(protocol: UploadProtocolChoice): string {
  switch (protocol) {
    case 'auto':
      return vscode.l10n.t('Detect automatically');
    case 'tus':
      return vscode.l10n.t('tus 1.0');
    case 'ietf':
      return vscode.l10n.t('IETF Resumable Uploads (draft)');
    case 'put-range':
      return vscode.l10n.t('PUT with Content-Range (WebDAV)');
    case 'put':
      return vscode.l10n.t('Plain PUT (cannot resume)');
  }
}

type EndpointItem = vscode.QuickPickItem & { endpoint?: RememberedEndpoint; create?: boolean };

/** Quick pick of remembered endpoints (each can be forgotten with its button), or a new one. */
async function pickEndpoint(endpoints: UploadEndpoints): Promise<RememberedEndpoint | 'new' | undefined> {
  const forget: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('trash'), tooltip: vscode.l10n.t('Forget this endpoint') };
  const items = (): EndpointItem[] => [
    ...endpoints.list().map((endpoint) => ({ label: redactUrl(endpoint.url), description: protocolLabel(endpoint.protocol), endpoint, buttons: [forget] })),
    { label: `$(add) ${vscode.l10n.t('New endpoint…')}`, create: true, alwaysShow: true },
  ];
  const pick = vscode.window.createQuickPick<EndpointItem>();
  pick.title = vscode.l10n.t('Upload to…');
  pick.placeholder = vscode.l10n.t('Choose an endpoint, or add a new one');
  pick.items = items();
  return new Promise((resolve) => {
    const disposables: vscode.Disposable[] = [
      pick.onDidAccept(() => {
        const item = pick.selectedItems[0];
        resolve(item?.create ? 'new' : item?.endpoint);
        pick.hide();
      }),
      pick.onDidTriggerItemButton(async (event) => {
        if (event.item.endpoint) await endpoints.forget(event.item.endpoint.url);
        pick.items = items();
      }),
      pick.onDidHide(() => {
        resolve(undefined);
        disposables.forEach((d) => d.dispose());
        pick.dispose();
      }),
    ];
    pick.show();
  });
}

async function newEndpoint(savedHeaders: SavedHeaders): Promise<RememberedEndpoint | undefined> {
  const url = await vscode.window.showInputBox({
    title: vscode.l10n.t('New upload endpoint (1/3)'),
    prompt: vscode.l10n.t('URL of a tus server, an IETF resumable-upload endpoint, or a WebDAV folder or file.'),
    placeHolder: 'https://uploads.example.com/files/',
    ignoreFocusOut: true,
    validateInput: (text) => {
      try {
        parseHttpUrl(text);
        return undefined;
      } catch {
        return vscode.l10n.t('Not a valid http or https URL: {0}', text);
      }
    },
  });
  if (!url) return undefined;
  const choices: UploadProtocolChoice[] = ['auto', 'tus', 'ietf', 'put-range', 'put'];
  const protocol = await vscode.window.showQuickPick(
    choices.map((choice) => ({ label: protocolLabel(choice), choice })),
    { title: vscode.l10n.t('New upload endpoint (2/3): protocol'), placeHolder: vscode.l10n.t('Detect automatically unless the server needs a specific protocol'), ignoreFocusOut: true },
  );
  if (!protocol) return undefined;
  const header = await vscode.window.showInputBox({
    title: vscode.l10n.t('New upload endpoint (3/3): header'),
    prompt: vscode.l10n.t('Optional header sent with every request to {0}, as "Name: value" (kept in the system keychain). Leave empty for none.', originOf(url) ?? url),
    placeHolder: 'Authorization: Bearer …',
    password: true,
    ignoreFocusOut: true,
    validateInput: (text) => (!text.trim() || parseHeaderLine(text).ok ? undefined : vscode.l10n.t('Enter the header as "Name: value".')),
  });
  if (header === undefined) return undefined;
  const line = parseHeaderLine(header);
  if (line.ok) await savedHeaders.set(url, line.name, line.value);
  return { url: parseHttpUrl(url).toString(), protocol: protocol.choice, lastUsed: Date.now() };
}

export interface UploadContext {
  manager: TransferManager;
  endpoints: UploadEndpoints;
  savedHeaders: SavedHeaders;
  log: vscode.LogOutputChannel;
}

/** Arguments other extensions and tests may pass instead of answering the prompts. */
export interface UploadArgs {
  files: string[];
  url: string;
  protocol?: UploadProtocolChoice;
}

/** Queues one upload per file to an endpoint the user picks (or one given by a caller). */
export async function startUploads(ctx: UploadContext, files: string[], given?: { url: string; protocol?: UploadProtocolChoice }): Promise<string[]> {
  if (files.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Choose a file to upload.'));
    return [];
  }
  let endpoint: RememberedEndpoint | undefined = given ? { url: given.url, protocol: given.protocol ?? 'auto', lastUsed: Date.now() } : undefined;
  if (!endpoint) {
    const picked = await pickEndpoint(ctx.endpoints);
    endpoint = picked === 'new' ? await newEndpoint(ctx.savedHeaders) : picked;
  }
  if (!endpoint) return [];
  endpoint = { ...endpoint, url: await keepCredentialsSecret(endpoint.url, ctx.savedHeaders, ctx.log) };
  await ctx.endpoints.remember(endpoint.url, endpoint.protocol);
  const ids: string[] = [];
  for (const file of files) {
    try {
      const record = await createUploadRecord({
        id: ctx.manager.newId(),
        url: endpoint.url,
        file,
        protocol: endpoint.protocol,
        chunkSize: EDITOR_CHUNK_BYTES,
        now: Date.now(),
      });
      await ctx.manager.add(record);
      ctx.log.info(`[${record.id}] queued upload of ${file} (${endpoint.protocol})`);
      ids.push(record.id);
    } catch (error) {
      ctx.log.error(`could not read ${file}: ${String(error)}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not read {0}.', path.basename(file)));
    }
  }
  return ids;
}

/** Explorer passes the clicked file and the whole selection; the palette uses the active editor. */
export function filesFromExplorer(clicked: unknown, selection: unknown): string[] {
  const uris = (Array.isArray(selection) && selection.length > 0 ? selection : clicked ? [clicked] : []) as unknown[];
  return uris.filter((u): u is vscode.Uri => u instanceof vscode.Uri && u.scheme === 'file').map((u) => u.fsPath);
}

export function registerUploadCommands(ctx: UploadContext, ids: { uploadTo: string; uploadActiveFile: string }): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(ids.uploadTo, (clicked?: unknown, selection?: unknown) => {
      const args = clicked as UploadArgs | undefined;
      if (args && Array.isArray(args.files) && typeof args.url === 'string') return startUploads(ctx, args.files, args);
      return startUploads(ctx, filesFromExplorer(clicked, selection));
    }),
    vscode.commands.registerCommand(ids.uploadActiveFile, (fromTab?: unknown) => {
      const uri = fromTab instanceof vscode.Uri ? fromTab : vscode.window.activeTextEditor?.document.uri;
      return startUploads(ctx, uri?.scheme === 'file' ? [uri.fsPath] : []);
    }),
  ];
}
