import * as vscode from 'vscode';
import { originOf, parseHeaderLine, type TransferManager } from '../core';
import type { SavedHeaders } from './savedHeaders';

export interface OriginHeaderContext {
  manager: TransferManager;
  savedHeaders: SavedHeaders;
  log: vscode.LogOutputChannel;
}

/** Arguments other extensions and tests may pass instead of answering the prompts. */
export interface OriginHeaderArgs {
  /** An origin, or any URL of it: the header is bound to its scheme, host and port. */
  origin: string;
  /** `Name: value`; an empty value removes the header. */
  header: string;
}

function isOriginHeaderArgs(arg: unknown): arg is OriginHeaderArgs {
  return typeof arg === 'object' && arg !== null && typeof (arg as OriginHeaderArgs).origin === 'string' && typeof (arg as OriginHeaderArgs).header === 'string';
}

/**
 * Set Header for Origin…: a header (usually Authorization) kept in the keychain for one origin.
 * From a row the origin of its URL is offered, from the palette that of a URL on the clipboard.
 */
export async function setOriginHeader(ctx: OriginHeaderContext, arg?: unknown): Promise<void> {
  const given = isOriginHeaderArgs(arg) ? arg : undefined;
  const origin = given ? originOf(given.origin) : await askForOrigin(ctx, arg);
  if (!origin) return;
  const line = parseHeaderLine(given ? given.header : ((await askForHeader(ctx, origin)) ?? ''));
  if (!line.ok) return;
  const { name, value } = line;
  await ctx.savedHeaders.set(origin, name, value);
  ctx.log.info(`header ${name} ${value ? 'set' : 'removed'} for ${origin}`);
  void vscode.window.showInformationMessage(value ? vscode.l10n.t('{0} will be sent to {1}.', name, origin) : vscode.l10n.t('{0} is no longer sent to {1}.', name, origin));
}

async function suggestedOrigin(ctx: OriginHeaderContext, arg: unknown): Promise<string> {
  const snapshot = typeof arg === 'string' ? ctx.manager.get(arg) : undefined;
  if (snapshot) return originOf(snapshot.record.url) ?? '';
  try {
    return originOf(await vscode.env.clipboard.readText()) ?? '';
  } catch {
    return '';
  }
}

async function askForOrigin(ctx: OriginHeaderContext, arg: unknown): Promise<string | undefined> {
  const text = await vscode.window.showInputBox({
    title: vscode.l10n.t('Set Header for Origin (1/2)'),
    prompt: vscode.l10n.t('Origin the header is sent to: https or http, the host, and the port when it is not the default. The same host over the other scheme does not get it.'),
    placeHolder: 'https://files.example.com',
    value: await suggestedOrigin(ctx, arg),
    ignoreFocusOut: true,
    validateInput: (typed) => {
      const origin = originOf(typed);
      if (!origin) return vscode.l10n.t('Enter an origin such as https://files.example.com or http://127.0.0.1:8080.');
      // A whole URL is fine: say that the header goes to all of its origin, not to that URL only.
      if (origin !== typed.trim().replace(/\/$/, '').toLowerCase()) {
        return { message: vscode.l10n.t('The header will be sent to every URL of {0}.', origin), severity: vscode.InputBoxValidationSeverity.Info };
      }
      return undefined;
    },
  });
  return text === undefined ? undefined : originOf(text);
}

async function askForHeader(ctx: OriginHeaderContext, origin: string): Promise<string | undefined> {
  const saved = Object.keys(await ctx.savedHeaders.get(origin));
  return vscode.window.showInputBox({
    title: vscode.l10n.t('Set Header for Origin (2/2)'),
    prompt:
      saved.length === 0
        ? vscode.l10n.t('Header for {0} as "Name: value", kept in the system keychain. Leave the value empty to remove the header.', origin)
        : vscode.l10n.t('Header for {0} as "Name: value", kept in the system keychain. Leave the value empty to remove the header. Saved for it now: {1}', origin, saved.join(', ')),
    placeHolder: 'Authorization: Bearer …',
    password: true,
    ignoreFocusOut: true,
    validateInput: (text) => (parseHeaderLine(text).ok ? undefined : vscode.l10n.t('Enter the header as "Name: value".')),
  });
}
