import type * as vscode from 'vscode';
import { originOf, splitUrlCredentials } from '../core';
import { SecretKeys } from './ids';

type Log = Pick<vscode.LogOutputChannel, 'info' | 'warn'>;

/**
 * Extra request headers the user saved (usually Authorization, cookies, API keys), kept in
 * SecretStorage per origin: never in globalState, settings or logs. `https://h` and `http://h`
 * are two origins, so a token given for the secure one is never looked up for plain http.
 *
 * Earlier builds saved headers per host (`h:port`), for both schemes at once. Such an entry is
 * moved, the first time it is needed, to the https origin of its host, and only there: a person
 * who typed a token for a host almost always reached it over https, and a download resumed after
 * the update keeps working; over plain http it is never sent (that is the leak this closes), and
 * the log says how to give it for http again.
 */
export class SavedHeaders {
  /** Hosts whose legacy entry was not applied to their http origin, logged once each. */
  private readonly legacyNotedForHttp = new Set<string>();

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly log: Log,
  ) {}

  /** The headers saved for `origin` (an origin or any URL of it); `{}` for anything not http(s). */
  async get(origin: string): Promise<Record<string, string>> {
    const key = originOf(origin);
    if (!key) return {};
    const raw = await this.secrets.get(SecretKeys.originHeaderPrefix + key);
    if (raw !== undefined) return parseHeaders(raw);
    return this.adoptLegacy(key);
  }

  /** Sets one header for `origin`; an empty value removes it. */
  async set(origin: string, name: string, value: string): Promise<void> {
    const key = originOf(origin);
    if (!key) throw new Error(`not an http or https origin: ${origin}`);
    const headers = await this.get(key);
    const existing = Object.keys(headers).find((n) => n.toLowerCase() === name.toLowerCase());
    if (existing) delete headers[existing];
    if (value) headers[name] = value;
    if (Object.keys(headers).length === 0) await this.secrets.delete(SecretKeys.originHeaderPrefix + key);
    else await this.secrets.store(SecretKeys.originHeaderPrefix + key, JSON.stringify(headers));
  }

  /** Saves several headers (a pasted cURL command's) for the origin of `url`; returns that origin. */
  async setAll(url: string, headers: ReadonlyArray<readonly [string, string]>): Promise<string | undefined> {
    const origin = originOf(url);
    if (!origin) return undefined;
    for (const [name, value] of headers) await this.set(origin, name, value);
    return origin;
  }

  /** Headers for a request to `url`: those of its origin only. */
  forUrl(url: string): Promise<Record<string, string>> {
    return this.get(url);
  }

  /** A host-keyed entry saved by an earlier version: moved to the https origin, never used for http. */
  private async adoptLegacy(origin: string): Promise<Record<string, string>> {
    const url = new URL(origin);
    const legacyKey = SecretKeys.legacyHostHeaderPrefix + url.host;
    const raw = await this.secrets.get(legacyKey);
    if (raw === undefined) return {};
    if (url.protocol !== 'https:') {
      if (!this.legacyNotedForHttp.has(url.host)) {
        this.legacyNotedForHttp.add(url.host);
        this.log.warn(
          `headers saved for ${url.host} by an earlier version are sent only to https://${url.host}, not to ${origin}: ` +
            `set them again for ${origin} (Set Header for Origin…) if this server needs them over plain http`,
        );
      }
      return {};
    }
    const headers = parseHeaders(raw);
    if (Object.keys(headers).length > 0) await this.secrets.store(SecretKeys.originHeaderPrefix + origin, JSON.stringify(headers));
    await this.secrets.delete(legacyKey);
    this.log.info(`headers saved for ${url.host} by an earlier version now belong to ${origin} only: ${Object.keys(headers).join(', ')}`);
    return headers;
  }
}

function parseHeaders(raw: string): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null) return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

/**
 * A URL's `user:password@` goes to SecretStorage as its origin's Authorization header; records
 * (globalState) and the log only ever see the URL without it.
 */
export async function keepCredentialsSecret(url: string, saved: SavedHeaders, log: vscode.LogOutputChannel): Promise<string> {
  const { url: clean, authorization } = splitUrlCredentials(url);
  if (!authorization) return url;
  const origin = originOf(clean);
  if (!origin) return clean;
  await saved.set(origin, 'Authorization', authorization);
  log.info(`credentials from the URL kept in the keychain for ${origin}`);
  return clean;
}
