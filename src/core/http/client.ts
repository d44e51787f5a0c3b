import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import { Readable } from 'node:stream';
import fetch, { type RequestInit } from 'node-fetch';
import { AbortError, TransferError, abortReasonOf, networkReasonOf, redactUrl } from '../errors';
import { requestWithInterim, type InterimInfo } from './interim';
import { TLS_TRUST_CODES, trustedCas } from './tls-trust';

/**
 * The engine's only door to the network: node-fetch underneath, with redirects followed here
 * (so credentials can be dropped on the way), identity encoding, per-phase timeouts and
 * cancellation through AbortSignal.
 */
/** The headers the user gave for the origin of `url` (credentials, API keys); none: `{}`. */
export type OriginHeaders = (url: string) => Promise<Record<string, string>> | Record<string, string>;

/** `headers` for `origin`'s own URLs, nothing for any other origin (e.g. the CLI's --header). */
export function headersForOrigin(origin: string, headers: Record<string, string>): OriginHeaders {
  let bound: URL | undefined;
  try {
    bound = new URL(origin);
  } catch {
    bound = undefined;
  }
  return (url) => {
    try {
      return bound && sameOrigin(bound, new URL(url)) ? headers : {};
    } catch {
      return {};
    }
  };
}

export interface HttpRequestOptions {
  method?: string;
  /** The protocol's own headers (Range, Upload-Offset, ...): they follow every redirect. */
  headers?: Record<string, string>;
  /**
   * The user's headers, looked up per origin: asked for the first URL, and again for each new
   * origin a redirect leads to; the previous origin's are dropped first. On a redirect from https
   * to http none are sent at all: what was given for a secure origin never travels in clear text.
   */
  originHeaders?: OriginHeaders;
  body?: Buffer | Readable;
  signal?: AbortSignal;
  /** Follow redirects (default) or hand 3xx responses back to the caller. */
  followRedirects?: boolean;
  /**
   * Overrides the client's response timeout for this request; 0 disables it. An upload needs
   * this: the timer would otherwise run while the request body is still being sent.
   */
  responseTimeoutMs?: number;
  /**
   * Called for every 1xx interim response. The request then goes through node:http (node-fetch
   * drops 1xx responses) with the same agent and headers, and follows no redirects.
   */
  onInterim?: (info: InterimInfo) => void;
}

export interface HttpHeaders {
  get(name: string): string | null;
}

export interface HttpResponse {
  status: number;
  headers: HttpHeaders;
  /** URL of the response after redirects. */
  url: string;
  redirected: boolean;
  body: Readable;
  /** Stop reading and free the connection. */
  discard(): void;
}

export interface HttpClient {
  request(url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
}

export interface HttpClientOptions {
  /** Time to establish the TCP (and TLS) connection. */
  connectTimeoutMs?: number;
  /** Time from sending the request until the response headers arrive. */
  responseTimeoutMs?: number;
  maxRedirects?: number;
  userAgent?: string;
  /** Proxy hook: an agent for the given URL, or undefined for a direct connection. */
  agentFor?: (url: URL) => http.Agent | undefined;
  /**
   * Certificate authorities (PEM) trusted for direct https connections besides Node's own
   * (which include NODE_EXTRA_CA_CERTS). Proxied connections get theirs from the proxy hook.
   */
  ca?: readonly string[];
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Credentials by their nature: never sent to another origin, whoever set them. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

export const DEFAULT_USER_AGENT = 'resumable-transfers/0.1';

type AgentConstructor = typeof http.Agent | typeof https.Agent;

/** An agent that fails a connection which is not established within `timeoutMs`. */
function connectTimeoutAgent<T extends AgentConstructor>(Base: T, timeoutMs: number, tlsOptions: https.AgentOptions = {}): InstanceType<T> {
  const agent = new Base({ keepAlive: true, maxFreeSockets: 16, ...tlsOptions }) as InstanceType<T> & {
    createConnection(options: unknown, callback?: unknown): Socket;
  };
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (options: unknown, callback?: unknown) => {
    const socket = create(options, callback);
    const timer = setTimeout(() => {
      const error = Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), { code: 'ERR_RT_CONNECT_TIMEOUT' });
      socket.destroy(error);
    }, timeoutMs);
    const clear = () => clearTimeout(timer);
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', clear);
    socket.once('close', clear);
    return socket;
  };
  return agent;
}

export function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.host === b.host;
}

/**
 * Headers for the next hop: on a hop that leaves the origin, the user's headers (`userNames`) and
 * every credential header go; the protocol's own headers stay.
 */
export function headersForRedirect(
  headers: Record<string, string>,
  from: URL,
  to: URL,
  userNames: ReadonlySet<string> = new Set(),
): Record<string, string> {
  if (sameOrigin(from, to)) return headers;
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !CREDENTIAL_HEADERS.includes(name.toLowerCase()) && !userNames.has(name.toLowerCase())),
  );
}

/** Classifies a low-level failure into the engine's error codes. */
export function networkError(error: unknown, url: string, signal: AbortSignal | undefined): TransferError {
  if (error instanceof TransferError) return error;
  if (signal?.aborted) return new AbortError(abortReasonOf(signal));
  const code = (error as { code?: string })?.code;
  if (code === 'ERR_RT_CONNECT_TIMEOUT') {
    return new TransferError('ERR_CONNECT_TIMEOUT', `connecting to ${redactUrl(url)} timed out`, { cause: error, networkReason: 'timed-out' });
  }
  if (code !== undefined && TLS_TRUST_CODES.has(code)) {
    return new TransferError('ERR_TLS_CERTIFICATE', `the certificate of ${hostOf(url)} is not trusted (${code})`, { cause: error, networkReason: 'tls-untrusted' });
  }
  if (code?.startsWith('HPE_')) {
    // llhttp refused what the server sent (oversized headers, broken chunked encoding, ...).
    return new TransferError('ERR_BAD_RESPONSE', `malformed HTTP response from ${hostOf(url)} (${code})`, { cause: error });
  }
  const detail = code ?? (error as Error)?.message ?? String(error);
  return new TransferError('ERR_NETWORK', `network error for ${redactUrl(url)}: ${detail}`, { cause: error, networkReason: networkReasonOf(code) });
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '<invalid url>';
  }
}

export class NodeFetchHttpClient implements HttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly options: HttpClientOptions = {}) {
    const connectTimeout = options.connectTimeoutMs ?? 30_000;
    this.httpAgent = connectTimeoutAgent(http.Agent, connectTimeout);
    this.httpsAgent = connectTimeoutAgent(https.Agent, connectTimeout, trustedCas(options.ca));
  }

  dispose(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private agent(url: URL): http.Agent {
    return this.options.agentFor?.(url) ?? (url.protocol === 'https:' ? this.httpsAgent : this.httpAgent);
  }

  async request(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
    const { url: withoutCredentials, authorization } = splitUrlCredentials(url);
    let current = parseHttpUrl(withoutCredentials);
    let method = (options.method ?? 'GET').toUpperCase();
    const protocolHeaders: Record<string, string> = {
      'user-agent': this.options.userAgent ?? DEFAULT_USER_AGENT,
      ...lowerCaseKeys(options.headers ?? {}),
      // Ranges count encoded bytes: we only ever want the representation itself.
      'accept-encoding': 'identity',
    };
    // `user:password@` in the URL is the user's too, given for this origin only.
    const given = { ...(authorization ? { authorization } : {}), ...(await this.lookUp(options, current)) };
    let { headers, userNames } = withUserHeaders(protocolHeaders, given);
    let body = options.body;
    const maxRedirects = this.options.maxRedirects ?? 10;
    // A request whose 1xx responses matter has a body stream: it cannot be sent again anyway.
    const followRedirects = options.followRedirects !== false && !options.onInterim;

    for (let hop = 0; ; hop++) {
      const response = await this.send(current, method, headers, body, options);
      const location = response.headers.get('location');
      if (!followRedirects || !REDIRECT_STATUSES.has(response.status) || !location) {
        return { ...response, redirected: hop > 0 };
      }
      response.discard();
      if (hop >= maxRedirects) {
        throw new TransferError('ERR_TOO_MANY_REDIRECTS', `more than ${maxRedirects} redirects from ${redactUrl(url)}`);
      }
      const next = parseHttpUrl(new URL(location, current).toString());
      const keepsMethod = response.status === 307 || response.status === 308;
      if (!keepsMethod && method !== 'GET' && method !== 'HEAD') {
        method = 'GET';
        body = undefined;
        headers = Object.fromEntries(Object.entries(headers).filter(([n]) => !n.startsWith('content-')));
      } else if (body !== undefined && !Buffer.isBuffer(body)) {
        // A consumed stream cannot be sent twice: let the caller decide.
        return { ...response, redirected: hop > 0 };
      }
      if (!sameOrigin(current, next)) {
        const downgrade = current.protocol === 'https:' && next.protocol === 'http:';
        const own = downgrade ? {} : await this.lookUp(options, next);
        ({ headers, userNames } = withUserHeaders(headersForRedirect(headers, current, next, userNames), own));
      }
      current = next;
    }
  }

  private async lookUp(options: HttpRequestOptions, url: URL): Promise<Record<string, string>> {
    return lowerCaseKeys((await options.originHeaders?.(url.toString())) ?? {});
  }

  private async send(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: Buffer | Readable | undefined,
    options: HttpRequestOptions,
  ): Promise<Omit<HttpResponse, 'redirected'>> {
    const { signal, onInterim } = options;
    const responseTimeout = options.responseTimeoutMs ?? this.options.responseTimeoutMs ?? 60_000;
    const timeout = new AbortController();
    const timer = responseTimeout > 0 ? setTimeout(() => timeout.abort('timeout'), responseTimeout) : undefined;
    const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
    try {
      const agent = this.agent(url);
      if (onInterim) {
        const stream = body === undefined ? undefined : Buffer.isBuffer(body) ? Readable.from([body]) : body;
        const response = await requestWithInterim(url, { method, headers, body: stream, signal: combined, agent, onInterim });
        return {
          status: response.status,
          headers: response.headers,
          url: url.toString(),
          body: response.body,
          discard: () => response.body.destroy(),
        };
      }
      const init: RequestInit = { method, headers, body, redirect: 'manual', compress: false, agent, signal: combined };
      const response = await fetch(url.toString(), init);
      const stream = response.body as unknown as Readable;
      return {
        status: response.status,
        headers: response.headers,
        url: url.toString(),
        body: stream,
        discard: () => stream.destroy(),
      };
    } catch (error) {
      if (timeout.signal.aborted && !signal?.aborted) {
        throw new TransferError('ERR_RESPONSE_TIMEOUT', `no response from ${redactUrl(url)} within ${responseTimeout} ms`, { cause: error });
      }
      throw networkError(error, url.toString(), signal);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The user's headers under the protocol's (which win a clash), and the names that came from the user. */
function withUserHeaders(
  protocolHeaders: Record<string, string>,
  given: Record<string, string>,
): { headers: Record<string, string>; userNames: Set<string> } {
  const userNames = new Set(Object.keys(given).filter((name) => !(name in protocolHeaders)));
  return { headers: { ...given, ...protocolHeaders }, userNames };
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/**
 * Takes `user:password@` out of a URL and returns it as a Basic Authorization value: a URL with
 * credentials must never be stored in a record or written to a log (and fetch refuses it).
 */
export function splitUrlCredentials(text: string): { url: string; authorization?: string } {
  let parsed: URL;
  try {
    parsed = new URL(text.trim());
  } catch {
    return { url: text };
  }
  if (!parsed.username && !parsed.password) return { url: text.trim() };
  const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` };
}

/** Parses a user-supplied URL; only http and https are transfers we can resume. */
export function parseHttpUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new TransferError('ERR_INVALID_URL', `not a valid URL: ${text}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TransferError('ERR_UNSUPPORTED_PROTOCOL', `only http and https URLs are supported, not ${url.protocol}`);
  }
  return url;
}
