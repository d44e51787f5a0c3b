import { systemClock, type Clock } from '../clock';
import { TransferError, redactUrl } from '../errors';
import { Emitter, type Event } from '../events';
import type { HttpClient, HttpHeaders, HttpRequestOptions, HttpResponse } from './client';

/**
 * One request and what the server answered, as the details view tells it: only the headers that
 * explain a transfer (ranges, validators, upload offsets) keep their values; every other header
 * the client sent is listed by name with its value hidden, since it may carry a credential.
 */
export interface Exchange {
  /** Epoch ms when the request was sent. */
  at: number;
  /** Milliseconds until the response headers (or the failure). */
  ms: number;
  method: string;
  /** Without credentials and without the query (signed URLs carry secrets there). */
  url: string;
  request: Record<string, string>;
  status?: number;
  response: Record<string, string>;
  /** The engine's code when no response came (ERR_NETWORK, …). */
  error?: string;
}

/** Request headers whose values tell the story and never hold secrets. */
const SHOWN_REQUEST = ['range', 'if-range', 'if-match', 'content-range', 'content-length', 'upload-offset', 'upload-length', 'upload-complete', 'upload-draft-interop-version', 'tus-resumable'];
/** Response headers worth showing. */
const SHOWN_RESPONSE = ['content-range', 'content-length', 'etag', 'last-modified', 'accept-ranges', 'upload-offset', 'upload-length', 'upload-complete', 'upload-expires', 'retry-after', 'location'];
export const HIDDEN_VALUE = '…';

/** A URL fit for the story: no user:password, no query (signed URLs keep their signature there). */
export function storyUrl(url: string): string {
  try {
    const parsed = new URL(redactUrl(url));
    if (parsed.search) parsed.search = '?…';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}

function requestHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    shown[lower] = SHOWN_REQUEST.includes(lower) ? value : HIDDEN_VALUE;
  }
  return shown;
}

function responseHeaders(headers: HttpHeaders): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const name of SHOWN_RESPONSE) {
    const value = headers.get(name);
    if (value !== null) shown[name] = name === 'location' ? storyUrl(value) : value;
  }
  return shown;
}

/** Wraps an HTTP client so that every exchange is told to `onExchange` (a transfer's request log). */
export function recordingHttpClient(inner: HttpClient, onExchange: (exchange: Exchange) => void, clock: Clock = systemClock): HttpClient {
  return {
    async request(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
      const at = clock.now();
      const base = { at, method: (options.method ?? 'GET').toUpperCase(), url: storyUrl(url), request: requestHeaders(options.headers) };
      try {
        const response = await inner.request(url, options);
        onExchange({ ...base, ms: clock.now() - at, status: response.status, response: responseHeaders(response.headers), url: storyUrl(response.url || url) });
        return response;
      } catch (error) {
        onExchange({ ...base, ms: clock.now() - at, response: {}, error: error instanceof TransferError ? error.code : 'ERR_INTERNAL' });
        throw error;
      }
    },
  };
}

/**
 * The most recent exchanges of one transfer, in memory only and bounded: a long download with
 * thousands of requests keeps its last `capacity` (the view says how many came before).
 */
export class ExchangeLog {
  private readonly entries: Exchange[] = [];
  private droppedCount = 0;
  private readonly appended = new Emitter<Exchange>();
  readonly onDidAppend: Event<Exchange> = this.appended.event;

  constructor(readonly capacity = 200) {}

  append(exchange: Exchange): void {
    this.entries.push(exchange);
    if (this.entries.length > this.capacity) {
      this.entries.shift();
      this.droppedCount += 1;
    }
    this.appended.fire(exchange);
  }

  /** Exchanges kept, oldest first. */
  list(): readonly Exchange[] {
    return this.entries;
  }

  /** How many older exchanges were let go to stay within capacity. */
  get dropped(): number {
    return this.droppedCount;
  }

  dispose(): void {
    this.appended.dispose();
  }
}

/**
 * The logs of the transfers of this session, keyed by transfer id; bounded too: the logs of the
 * transfers touched longest ago go first.
 */
export class ExchangeLogs {
  private readonly logs = new Map<string, ExchangeLog>();

  constructor(private readonly maxTransfers = 50, private readonly capacity = 200) {}

  /** The log of `id`, created on first use. */
  forTransfer(id: string): ExchangeLog {
    let log = this.logs.get(id);
    if (log) {
      this.logs.delete(id);
    } else {
      log = new ExchangeLog(this.capacity);
    }
    this.logs.set(id, log);
    while (this.logs.size > this.maxTransfers) {
      const oldest = this.logs.keys().next().value as string;
      this.logs.get(oldest)?.dispose();
      this.logs.delete(oldest);
    }
    return log;
  }

  get(id: string): ExchangeLog | undefined {
    return this.logs.get(id);
  }

  delete(id: string): void {
    this.logs.get(id)?.dispose();
    this.logs.delete(id);
  }
}
