import type * as vscode from 'vscode';
import { splitUrlCredentials } from '../core';
import { SecretKeys } from './ids';

/**
 * Extra request headers per host (usually Authorization), kept in SecretStorage: never in
 * globalState, settings or logs.
 */
export class HostHeaders {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  private key(host: string): string {
    return `${SecretKeys.hostHeaderPrefix}${host.toLowerCase()}`;
  }

  async get(host: string): Promise<Record<string, string>> {
    const raw = await this.secrets.get(this.key(host));
    if (!raw) return {};
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed !== 'object' || parsed === null) return {};
      return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
    } catch {
      return {};
    }
  }

  /** Sets one header for the host; an empty value removes it. */
  async set(host: string, name: string, value: string): Promise<void> {
    const headers = await this.get(host);
    const existing = Object.keys(headers).find((n) => n.toLowerCase() === name.toLowerCase());
    if (existing) delete headers[existing];
    if (value) headers[name] = value;
    if (Object.keys(headers).length === 0) await this.secrets.delete(this.key(host));
    else await this.secrets.store(this.key(host), JSON.stringify(headers));
  }

  /** Headers for a request to `url` (by host, port included when not the default). */
  async forUrl(url: string): Promise<Record<string, string>> {
    try {
      return await this.get(new URL(url).host);
    } catch {
      return {};
    }
  }
}

/**
 * A URL's `user:password@` goes to SecretStorage as the host's Authorization header; records
 * (globalState) and the log only ever see the URL without it.
 */
export async function keepCredentialsSecret(url: string, hostHeaders: HostHeaders, log: vscode.LogOutputChannel): Promise<string> {
  const { url: clean, authorization } = splitUrlCredentials(url);
  if (!authorization) return url;
  const host = new URL(clean).host;
  await hostHeaders.set(host, 'Authorization', authorization);
  log.info(`credentials from the URL kept in the keychain for ${host}`);
  return clean;
}
