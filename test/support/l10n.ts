import * as fs from 'node:fs';
import * as path from 'node:path';
import type { L10n } from '../../src/vscode/messages';

const root = path.resolve(__dirname, '..', '..');

/** What vscode.l10n.t does: the bundle's translation when there is one, `{n}` filled in. */
function localizer(bundle: Record<string, string>): L10n {
  return {
    t: (message, ...args) => (bundle[message] ?? message).replace(/\{(\d+)\}/g, (whole, index: string) => (index in args ? String(args[Number(index)]) : whole)),
  };
}

/** English: the source strings, as VS Code shows them without a language pack. */
export const english: L10n = localizer({});

/** Simplified Chinese from the shipped runtime bundle. */
export const chinese: L10n = localizer(JSON.parse(fs.readFileSync(path.join(root, 'l10n', 'bundle.l10n.zh-cn.json'), 'utf8')) as Record<string, string>);
