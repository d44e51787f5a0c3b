import * as vscode from 'vscode';
import { CurlParseError, originOf, parseCurlCommand, type CurlDownload, type CurlRefusal } from '../core';
import type { SavedHeaders } from './savedHeaders';

/**
 * "Copy as cURL" pasted into Download URL: the URL to download and the headers (cookies,
 * Authorization from -u, Referer…) that make a login-protected download work. The headers go to
 * the keychain for that URL's origin only (its scheme, host and port: a cookie copied from an
 * https page never goes to the same host over plain http); the user sees their names, never
 * their values.
 */
export function readCurl(text: string): { curl?: CurlDownload; problem?: string } {
  try {
    return { curl: parseCurlCommand(text) };
  } catch (error) {
    if (error instanceof CurlParseError) return { problem: refusalText(error.reason) };
    throw error;
  }
}

function refusalText(reason: CurlRefusal): string {
  switch (reason) {
    case 'body':
      return vscode.l10n.t('This cURL command sends data (a form or a request body); only a plain GET request can be downloaded.');
    case 'method':
      return vscode.l10n.t('This cURL command is not a GET request; only a plain GET request can be downloaded.');
    case 'no-url':
      return vscode.l10n.t('This cURL command has no URL.');
    case 'not-http':
      return vscode.l10n.t('The URL in this cURL command is not http or https.');
    case 'not-curl':
    case 'syntax':
      return vscode.l10n.t('This cURL command could not be read: check that it was copied whole.');
  }
}

/** Names of the headers kept, for the input box preview and the confirmation. */
export function headerNames(curl: CurlDownload): string {
  return curl.headers.map(([name]) => name).join(', ');
}

/** What the input box shows before Enter: which URL and which header names will be kept. */
export function curlPreview(curl: CurlDownload): string {
  return curl.headers.length === 0
    ? vscode.l10n.t('Will download {0}', curl.url)
    : vscode.l10n.t('Will download {0} and keep these headers for {1} in the keychain: {2}', curl.url, originOf(curl.url) ?? curl.url, headerNames(curl));
}

/** Saves the command's headers for its origin (SecretStorage) and confirms by name. */
export async function keepCurlHeaders(curl: CurlDownload, saved: SavedHeaders, log: vscode.LogOutputChannel): Promise<void> {
  if (curl.headers.length === 0) return;
  const origin = await saved.setAll(curl.url, curl.headers);
  if (!origin) return;
  log.info(`headers from a cURL command kept in the keychain for ${origin}: ${headerNames(curl)}`);
  void vscode.window.showInformationMessage(vscode.l10n.t('Headers kept in the keychain for {0}: {1}', origin, headerNames(curl)));
}
