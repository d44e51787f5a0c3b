import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { AbortError, abortReasonOf } from '../errors';

/**
 * One request whose 1xx interim responses matter. node-fetch reads only the final response and
 * silently drops every 1xx, but the IETF draft hands out the upload URL in a `104 (Upload
 * Resumption Supported)` while the creating request is still sending its body: only node:http's
 * 'information' event surfaces it. The HTTP client calls this with its own agent (proxy, TLS,
 * connect timeout) and headers (user agent), so these requests take the same way out as every
 * other one; it follows no redirects (a body stream cannot be sent twice).
 */
export interface InterimInfo {
  status: number;
  headers: { get(name: string): string | null };
}

export interface InterimRequest {
  method: string;
  headers: Record<string, string>;
  body?: Readable;
  signal: AbortSignal;
  agent: http.Agent;
  onInterim: (info: InterimInfo) => void;
}

export interface InterimResponse {
  status: number;
  headers: { get(name: string): string | null };
  body: Readable;
}

/** Wraps node's lower-cased header object in the engine's `get(name)` shape. */
export function headersOf(raw: http.IncomingHttpHeaders): InterimInfo['headers'] {
  return {
    get(name: string): string | null {
      const value = raw[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : String(value);
    },
  };
}

/** Resolves with the final response; rejects with the raw low-level error (the client classifies it). */
export function requestWithInterim(target: URL, request: InterimRequest): Promise<InterimResponse> {
  return new Promise<InterimResponse>((resolve, reject) => {
    const { signal } = request;
    if (signal.aborted) return reject(new AbortError(abortReasonOf(signal)));
    const transport = target.protocol === 'https:' ? https : http;
    const req = transport.request(target, { method: request.method, headers: request.headers, agent: request.agent });
    let settled = false;
    const onAbort = () => req.destroy(new AbortError(abortReasonOf(signal)));
    signal.addEventListener('abort', onAbort, { once: true });

    req.on('information', (info) => {
      request.onInterim({ status: info.statusCode, headers: headersOf(info.headers) });
    });
    req.once('response', (res) => {
      settled = true;
      signal.removeEventListener('abort', onAbort);
      // A server may answer (e.g. 403) before reading the whole body: stop sending it.
      if (request.body && !request.body.readableEnded) {
        request.body.unpipe(req);
        request.body.destroy();
      }
      // An abort after the headers must still end the body the caller is reading.
      const onBodyAbort = () => res.destroy(new AbortError(abortReasonOf(signal)));
      signal.addEventListener('abort', onBodyAbort, { once: true });
      res.once('close', () => signal.removeEventListener('abort', onBodyAbort));
      resolve({ status: res.statusCode ?? 0, headers: headersOf(res.headers), body: res });
    });
    req.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      request.body?.destroy();
      if (settled) return;
      settled = true;
      reject(error);
    });

    if (request.body) {
      request.body.once('error', (error) => req.destroy(error));
      request.body.pipe(req);
    } else {
      req.end();
    }
  });
}
