import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { AbortError, TransferError, abortReasonOf } from '../errors';
import { DEFAULT_USER_AGENT, networkError, parseHttpUrl, type HttpHeaders, type HttpResponse } from '../http/client';
import type { InterimInfo } from './protocol';

/**
 * Sends one request whose 1xx interim responses matter. node-fetch (our HttpClient) reads only the
 * final response and silently drops every 1xx, but the IETF draft hands out the upload URL in a
 * `104 (Upload Resumption Supported)` while the creating request is still sending its body: only
 * node:http's 'information' event surfaces it. No redirects are followed (a body stream cannot be
 * sent twice), and there is no response timeout here: the caller's watchdog owns timing.
 */
export interface InterimRequestOptions {
  method: string;
  headers: Record<string, string>;
  body?: Readable;
  signal: AbortSignal;
  onInterim?: (info: InterimInfo) => void;
}

export type InterimRequester = (url: string, options: InterimRequestOptions) => Promise<HttpResponse>;

export interface InterimRequesterOptions {
  userAgent?: string;
  /** Same hook as HttpClientOptions.agentFor (proxies). */
  agentFor?: (url: URL) => http.Agent | undefined;
  connectTimeoutMs?: number;
}

/** Wraps node's lower-cased header object in the engine's `get(name)` shape. */
export function headersOf(raw: http.IncomingHttpHeaders): HttpHeaders {
  return {
    get(name: string): string | null {
      const value = raw[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : String(value);
    },
  };
}

export function createInterimRequester(options: InterimRequesterOptions = {}): InterimRequester {
  return (url, request) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const target = parseHttpUrl(url);
      const { signal } = request;
      if (signal.aborted) return reject(new AbortError(abortReasonOf(signal)));
      const transport = target.protocol === 'https:' ? https : http;
      const headers: Record<string, string> = { 'user-agent': options.userAgent ?? DEFAULT_USER_AGENT, ...lowerCase(request.headers) };
      const req = transport.request(target, {
        method: request.method,
        headers,
        agent: options.agentFor?.(target) ?? false,
      });
      let settled = false;
      const connectTimer = setTimeout(() => {
        req.destroy(Object.assign(new Error('connect timed out'), { code: 'ERR_RT_CONNECT_TIMEOUT' }));
      }, options.connectTimeoutMs ?? 30_000);
      req.once('socket', (socket) => {
        if (!socket.connecting) clearTimeout(connectTimer);
        else socket.once('connect', () => clearTimeout(connectTimer));
      });
      const onAbort = () => req.destroy(new AbortError(abortReasonOf(signal)));
      signal.addEventListener('abort', onAbort, { once: true });
      const finish = () => {
        clearTimeout(connectTimer);
        signal.removeEventListener('abort', onAbort);
      };

      req.on('information', (info) => {
        request.onInterim?.({ status: info.statusCode, headers: headersOf(info.headers) });
      });
      req.once('response', (res) => {
        settled = true;
        finish();
        // A server may answer (e.g. 403) before reading the whole body: stop sending it.
        if (request.body && !request.body.readableEnded) {
          request.body.unpipe(req);
          request.body.destroy();
        }
        resolve({
          status: res.statusCode ?? 0,
          headers: headersOf(res.headers),
          url: target.toString(),
          redirected: false,
          body: res,
          discard: () => {
            res.resume();
            res.destroy();
          },
        });
      });
      req.once('error', (error) => {
        finish();
        request.body?.destroy();
        if (settled) return;
        settled = true;
        reject(error instanceof TransferError ? error : networkError(error, url, signal));
      });

      if (request.body) {
        request.body.once('error', (error) => req.destroy(error));
        request.body.pipe(req);
      } else {
        req.end();
      }
    });
}

function lowerCase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
