import * as vscode from 'vscode';
import { urlsFromUriList } from './urlInput';

/**
 * URLs dropped on the Transfers view (a link dragged from a browser, text from an editor) become
 * downloads. Browsers offer `text/uri-list`; editors and most apps plain text.
 */
export class UrlDropController implements vscode.TreeDragAndDropController<string> {
  readonly dropMimeTypes = ['text/uri-list', 'text/plain'];
  readonly dragMimeTypes: string[] = [];

  constructor(private readonly download: (urls: string[]) => Promise<unknown>) {}

  async handleDrop(_target: string | undefined, data: vscode.DataTransfer): Promise<void> {
    const text = (await data.get('text/uri-list')?.asString()) || (await data.get('text/plain')?.asString()) || '';
    const urls = urlsFromUriList(text);
    if (urls.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Nothing to download: drop http or https links.'));
      return;
    }
    await this.download(urls);
  }
}
