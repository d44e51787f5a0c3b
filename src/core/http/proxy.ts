import type * as http from 'node:http';
import { BlockList, isIP } from 'node:net';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { TransferError, redactUrl } from '../errors';
import { trustedCas } from './tls-trust';

/**
 * Proxy support for the engine's HTTP client: VS Code's `http.proxy`, `http.proxyStrictSSL` and
 * `http.noProxy` (or the HTTP_PROXY / HTTPS_PROXY / NO_PROXY environment variables) turned into
 * an `agentFor(url)` hook for NodeFetchHttpClient.
 *
 * - http targets go through an HTTP proxy with absolute-form requests (`GET http://host/path`);
 * - https targets go through a CONNECT tunnel, TLS to the target inside it;
 * - the proxy itself may be http:// or https://; other schemes (socks…) are refused;
 * - credentials in the proxy URL become a Basic Proxy-Authorization header and never appear in a
 *   message: the agents are given the URL without them.
 */
export interface ProxySettings {
  /** `http://[user:pass@]host:port`; a bare `host:port` means http://. Empty or undefined: no proxy. */
  proxyUrl?: string;
  /** Verify TLS certificates on proxied connections (the target's inside a tunnel, and an https proxy's). */
  strictSSL: boolean;
  /**
   * Hosts that are reached directly:
   * - `*` bypasses the proxy for everything;
   * - `example.com` matches that host and every host under it (`a.example.com`);
   * - `.example.com` (or `*.example.com`) matches only hosts under it, not `example.com` itself;
   * - `host:port` (`[::1]:8080` for IPv6) matches only that port (the scheme's default port when the URL has none);
   * - an IP address matches that address, `10.0.0.0/8` or `fd00::/8` a whole subnet.
   * Matching ignores case and a trailing dot.
   */
  noProxy: string[];
  /** Extra certificate authorities (PEM) trusted for https targets reached through the tunnel. */
  ca?: readonly string[];
}

export interface ProxyFactoryOptions extends ProxySettings {
  /**
   * When `proxyUrl` is undefined, take the proxy from the environment: `https_proxy`/`HTTPS_PROXY`
   * for https targets, `http_proxy`/`HTTP_PROXY` for http targets (lower case wins), and add
   * `no_proxy`/`NO_PROXY` (comma or space separated) to `noProxy`.
   */
  useEnvironment?: boolean;
  /** The environment read by `useEnvironment`; process.env by default (tests pass their own). */
  env?: Record<string, string | undefined>;
}

export interface ProxyAgentFactory {
  /** The agent for a request to `url`, or undefined for a direct connection. */
  agentFor(url: URL): http.Agent | undefined;
  /** One line for logs, credentials redacted, e.g. `http: http://proxy:3128/, https: direct, noProxy: localhost`. */
  describe(): string;
  /**
   * Why the configured proxy cannot be used (ERR_PROXY_CONFIG), or undefined. Requests that would
   * go through it fail with this error; the rest go direct.
   */
  readonly problem?: ProxyProblem;
  /** Closes the agents' pooled connections. */
  dispose(): void;
}

type Scheme = 'http' | 'https';

/** A proxy with its credentials taken out of the URL. */
export interface ProxyEndpoint {
  /** The proxy URL without username and password, as the agents see it. */
  url: URL;
  /** Basic credentials for Proxy-Authorization, when the URL had any. */
  authorization?: string;
  /** Where the setting came from, for messages. */
  source: string;
}

/** A proxy setting (or environment variable) that cannot be used, and why. */
export interface ProxyProblem {
  setting: string;
  error: TransferError;
}

/** Keep-alive pool size per target, as for direct connections. */
const MAX_FREE_SOCKETS = 16;

export function createProxyAgentFactory(settings: ProxyFactoryOptions): ProxyAgentFactory {
  const env = settings.env ?? process.env;
  const configured = nonEmpty(settings.proxyUrl);
  const fromEnvironment = configured === undefined && settings.useEnvironment === true;

  // A bad setting is not a reason to fail here (this runs at activation and in the worker): it
  // becomes the error of every request that would have gone through that proxy.
  const proxies: Record<Scheme, ProxyChoice> = configured !== undefined
    ? { http: choose('http.proxy', () => parseProxyUrl(configured, 'http.proxy')), https: choose('http.proxy', () => parseProxyUrl(configured, 'http.proxy')) }
    : fromEnvironment
      ? { http: choose(envName(env, 'http_proxy'), () => proxyFromEnv(env, 'http_proxy')), https: choose(envName(env, 'https_proxy'), () => proxyFromEnv(env, 'https_proxy')) }
      : { http: undefined, https: undefined };

  const noProxyEntries = [...settings.noProxy];
  if (fromEnvironment) noProxyEntries.push(...splitList(envValue(env, 'no_proxy') ?? ''));
  const bypass = createNoProxyMatcher(noProxyEntries);

  const agents = new Map<string, http.Agent>();
  let disposed = false;

  function agentFor(url: URL): http.Agent | undefined {
    const scheme: Scheme | undefined = url.protocol === 'https:' ? 'https' : url.protocol === 'http:' ? 'http' : undefined;
    if (!scheme) return undefined;
    const proxy = proxies[scheme];
    if (!proxy || bypass(url)) return undefined;
    if ('error' in proxy) throw proxy.error;
    if (disposed) throw new Error('proxy agent factory used after dispose()');
    const key = `${scheme} ${proxy.url.href}`;
    let agent = agents.get(key);
    if (!agent) {
      agent = scheme === 'https' ? new TunnelAgent(proxy, settings.strictSSL, settings.ca) : new ForwardAgent(proxy, settings.strictSSL);
      agents.set(key, agent);
    }
    return agent;
  }

  const problems = [proxies.http, proxies.https].filter((p): p is ProxyProblem => p !== undefined && 'error' in p);

  return {
    agentFor,
    problem: problems[0],
    describe() {
      const show = (p: ProxyChoice) =>
        p && 'error' in p ? `unusable (${p.error.message})` : p ? `${redactUrl(p.url)}${p.authorization ? ' (with credentials)' : ''} [${p.source}]` : 'direct';
      const parts = [`http: ${show(proxies.http)}`, `https: ${show(proxies.https)}`];
      if (noProxyEntries.length > 0) parts.push(`noProxy: ${noProxyEntries.join(', ')}`);
      if (proxies.http || proxies.https) parts.push(`strictSSL: ${settings.strictSSL}`);
      return parts.join(', ');
    },
    dispose() {
      disposed = true;
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}

/** A proxy, none, or why the setting cannot be used. */
type ProxyChoice = ProxyEndpoint | ProxyProblem | undefined;

function choose(setting: string, parse: () => ProxyEndpoint | undefined): ProxyChoice {
  try {
    return parse();
  } catch (error) {
    if (error instanceof TransferError) return { setting, error };
    throw error;
  }
}

/** The name of the variable proxyFromEnv reads (lower case wins). */
function envName(env: Record<string, string | undefined>, lowerName: string): string {
  return nonEmpty(env[lowerName]) !== undefined ? lowerName : lowerName.toUpperCase();
}

function agentOptions(proxy: ProxyEndpoint, strictSSL: boolean) {
  return {
    keepAlive: true,
    maxFreeSockets: MAX_FREE_SOCKETS,
    // Applies to the TLS connection to an https:// proxy.
    rejectUnauthorized: strictSSL,
    headers: proxy.authorization ? { 'Proxy-Authorization': proxy.authorization } : {},
  };
}

/** http targets: absolute-form requests to the proxy. */
class ForwardAgent extends HttpProxyAgent<string> {
  constructor(proxy: ProxyEndpoint, strictSSL: boolean) {
    super(proxy.url, agentOptions(proxy, strictSSL));
  }
}

/** https targets: CONNECT tunnel, then TLS to the target verified according to strictSSL. */
class TunnelAgent extends HttpsProxyAgent<string> {
  constructor(proxy: ProxyEndpoint, private readonly strictSSL: boolean, private readonly ca?: readonly string[]) {
    super(proxy.url, agentOptions(proxy, strictSSL));
  }

  override connect(...[request, options]: Parameters<HttpsProxyAgent<string>['connect']>): ReturnType<HttpsProxyAgent<string>['connect']> {
    // The target's TLS options come from the request, which knows nothing of strictSSL or our CAs.
    return super.connect(request, { ...options, rejectUnauthorized: this.strictSSL, ...trustedCas(this.ca) } as typeof options);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** Lower case first (curl's convention), then upper case; empty counts as unset. */
function envValue(env: Record<string, string | undefined>, lowerName: string): string | undefined {
  return nonEmpty(env[lowerName]) ?? nonEmpty(env[lowerName.toUpperCase()]);
}

function proxyFromEnv(env: Record<string, string | undefined>, lowerName: string): ProxyEndpoint | undefined {
  const text = envValue(env, lowerName);
  return text === undefined ? undefined : parseProxyUrl(text, `$${envName(env, lowerName)}`);
}

/** `user:pass@` taken out of a text that may not even parse, for error messages. */
function redactProxyText(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^@/?#]*@/i, '$1');
}

/** Parses a proxy setting; throws a TransferError whose message names the setting, never its credentials. */
export function parseProxyUrl(text: string, source = 'proxy'): ProxyEndpoint {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TransferError('ERR_PROXY_CONFIG', `${source} is not a valid proxy URL: ${redactProxyText(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TransferError(
      'ERR_PROXY_CONFIG',
      `${source}: only http and https proxies are supported, not ${url.protocol} (${redactUrl(url)})`,
    );
  }
  if (!url.hostname) throw new TransferError('ERR_PROXY_CONFIG', `${source} is not a valid proxy URL: ${redactUrl(url)}`);
  let authorization: string | undefined;
  if (url.username || url.password) {
    const credentials = `${safeDecode(url.username)}:${safeDecode(url.password)}`;
    authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  // Only scheme, host and port matter to a proxy.
  url.pathname = '/';
  url.search = '';
  url.hash = '';
  return { url, authorization, source };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function splitList(text: string): string[] {
  return text.split(/[\s,]+/).filter((entry) => entry.length > 0);
}

function normaliseHost(host: string): string {
  return host.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
}

function defaultPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

interface NoProxyRule {
  host?: string;
  /** true: `.example.com`, hosts under it only; false: the host and hosts under it. */
  subdomainsOnly?: boolean;
  port?: number;
  subnet?: BlockList;
}

/** Splits `host`, `host:port`, `[v6]`, `[v6]:port`, bare IPv6, `ip/bits` into a rule; undefined if unusable. */
function parseNoProxyEntry(raw: string): NoProxyRule | 'all' | undefined {
  const entry = raw.trim().toLowerCase();
  if (!entry) return undefined;
  if (entry === '*') return 'all';

  const cidr = /^\[?([0-9a-f:.]+)\]?\/(\d{1,3})$/.exec(entry);
  if (cidr) {
    const family = isIP(cidr[1]);
    const bits = Number(cidr[2]);
    if (family === 0 || bits > (family === 4 ? 32 : 128)) return undefined;
    const subnet = new BlockList();
    subnet.addSubnet(cidr[1], bits, family === 4 ? 'ipv4' : 'ipv6');
    return { subnet };
  }

  let host = entry;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) {
    host = bracketed[1];
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
  } else if (isIP(entry) !== 6) {
    const withPort = /^(.*):(\d+)$/.exec(entry);
    if (withPort) {
      host = withPort[1];
      port = Number(withPort[2]);
    }
  }
  let subdomainsOnly = false;
  if (host.startsWith('*.')) {
    host = host.slice(2);
    subdomainsOnly = true;
  } else if (host.startsWith('.')) {
    host = host.slice(1);
    subdomainsOnly = true;
  }
  host = normaliseHost(host);
  if (!host) return undefined;
  return { host, subdomainsOnly, port };
}

/** Returns a predicate: true when `url` must bypass the proxy. */
export function createNoProxyMatcher(entries: readonly string[]): (url: URL) => boolean {
  const rules: NoProxyRule[] = [];
  for (const entry of entries) {
    const rule = parseNoProxyEntry(entry);
    if (rule === 'all') return () => true;
    if (rule) rules.push(rule);
  }
  if (rules.length === 0) return () => false;
  return (url: URL) => {
    const host = normaliseHost(url.hostname);
    const family = isIP(host);
    const port = defaultPort(url);
    return rules.some((rule) => {
      if (rule.subnet) return family !== 0 && rule.subnet.check(host, family === 4 ? 'ipv4' : 'ipv6');
      if (rule.port !== undefined && rule.port !== port) return false;
      if (family !== 0 || isIP(rule.host!) !== 0) return family !== 0 && sameIp(host, rule.host!);
      if (host === rule.host) return !rule.subdomainsOnly;
      return host.endsWith(`.${rule.host}`);
    });
  };
}

/** Compares IP addresses by value (`::1` and `0:0:0:0:0:0:0:1` are the same). */
function sameIp(a: string, b: string): boolean {
  const familyA = isIP(a);
  if (familyA === 0 || familyA !== isIP(b)) return false;
  const list = new BlockList();
  list.addAddress(b, familyA === 4 ? 'ipv4' : 'ipv6');
  return list.check(a, familyA === 4 ? 'ipv4' : 'ipv6');
}
