/**
 * Fault-injecting HTTP/1.1 range server for integration tests.
 *
 * Plain Node `http`, listening on 127.0.0.1 with a random port. Each route
 * serves an in-memory body and can be told to misbehave in the ways real
 * servers and networks do (dropped connections, stalls, ignored ranges,
 * wrong Content-Range, error statuses, redirects, unwanted gzip, ...).
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export interface RouteOptions {
  /** The file content (can be replaced later via setBody to simulate a changed file). */
  body: Buffer;
  /** Exact header value, e.g. '"v1"' or 'W/"v1"'; omitted => no ETag. */
  etag?: string;
  /** Exact header value. */
  lastModified?: string;
  /** Override the Date header (to make Last-Modified weak/strong). */
  date?: string;
  contentType?: string;
  contentDisposition?: string;
  /** Default true: honour Range (single range bytes=a-, a-b, -n); false => always 200 full body, no Accept-Ranges. */
  ranges?: boolean;
  /**
   * Default true: evaluate If-Range (strong ETag comparison, or exact match of
   * the Last-Modified value) per RFC 9110; mismatch => 200 full body.
   * false => If-Range is ignored (the Range is always honoured).
   */
  ifRange?: boolean;
  /** For the first `times` responses with a body, destroy the socket after writing `bytes` body bytes. */
  dropAfter?: { bytes: number; times: number };
  /** Write `bytes` then stop writing (socket kept open) for `ms`, then destroy; first `times` responses with a body. */
  stallAfter?: { bytes: number; ms: number; times: number };
  /** Answer a Range request with 200 + full body for the first `times` range requests. */
  status200OnRange?: { times: number };
  /** 206 whose Content-Range start is shifted by `shift` (body from the shifted offset), first `times` range requests. */
  wrongContentRange?: { shift: number; times: number };
  /** 206 with Content-Range total = real total + 1, first `times` range requests. */
  wrongTotal?: { times: number };
  /** First `times` requests get this status (empty body) with optional Retry-After. */
  failWith?: { status: number; retryAfter?: string; times: number };
  /** Always redirect (301/302/303/307/308, default 302) to location (absolute or relative; a function is asked per request). */
  redirect?: { location: string | (() => string); status?: number };
  /** Extra response headers on every 200 and 206 (e.g. Repr-Digest). */
  headers?: Record<string, string>;
  /** Extra response headers on full 200 responses only (e.g. Content-Digest). */
  fullHeaders?: Record<string, string>;
  /**
   * Asked before anything else with the raw request target: a result is sent instead of the file
   * (e.g. a signed URL that has expired: 403 with an S3 XML body).
   */
  refuse?: (requestUrl: string) => { status: number; body: string; contentType?: string } | undefined;
  /**
   * If the request's Accept-Encoding allows gzip (not identity-only), send the
   * whole body gzip-encoded with Content-Encoding: gzip (status 200, Range ignored).
   * A request without Accept-Encoding does not trigger it.
   */
  gzipWhenAccepted?: boolean;
  /** No Content-Length on 200 responses (Transfer-Encoding: chunked). */
  chunked?: boolean;
  /** Announce the normal Content-Length but send `missing` fewer bytes, then end the socket; first `times` responses with a body. */
  shortBody?: { missing: number; times: number };
  /** Throttle body writes (for slow transfers), in small chunks with timers. */
  rateBytesPerSec?: number;
  /** Answer a bounded range `a-b` with 206 `a-(len-1)`: the right bytes, just more of them (some servers and CDNs). */
  openEndedAnswers?: boolean;
  /** Answer a bounded range `a-b` with 200 and the whole file; an open-ended `a-` still gets its 206. */
  refuseBoundedRanges?: boolean;
  /** Wait this long before the response head of every range request (a far-away server). */
  rangeHeaderLatencyMs?: number;
}

/** A misbehaviour that shaped one response (for tests that reason about what the client had to do). */
export type AppliedFault =
  | 'failWith'
  | 'drop'
  | 'stall'
  | 'short'
  | 'status200OnRange'
  | 'wrongContentRange'
  | 'wrongTotal'
  | 'openEnded'
  | 'boundedFull';

/** What a listener hears: body bytes went out, or a response went silent on purpose. */
export type FaultServerEvent = { kind: 'body'; request: RecordedRequest } | { kind: 'stall'; request: RecordedRequest; ms: number };

export interface RecordedRequest {
  method: string;
  /** Path without the query string (the part used to look up the route). */
  path: string;
  /** The raw request target, including any query string. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Status sent (0 until the response head was written). */
  status: number;
  /** Body bytes written to the socket for this response (after any encoding). */
  bodyBytesSent: number;
  /** Misbehaviours applied to this response, in order. */
  faults: AppliedFault[];
}

export interface FaultServer {
  /** 'http://127.0.0.1:PORT' */
  readonly origin: string;
  url(path: string): string;
  /** (Re)define a route; counters for `times` reset. */
  route(path: string, options: RouteOptions): void;
  /**
   * Simulate a file changed on the server. `etag` / `lastModified` replace the
   * route's validators when given; when omitted the previous values are kept
   * (pass the new validators to simulate a well-behaved server). Fault counters are not reset.
   */
  setBody(path: string, body: Buffer, etag?: string, lastModified?: string): void;
  /** Changes a route's throttle (undefined: none), for the responses under way too. Fault counters are not reset. */
  setRate(path: string, bytesPerSecond: number | undefined): void;
  /** Every request, in order, with what was sent. */
  readonly requests: RecordedRequest[];
  /** Sum of bodyBytesSent over all requests (or those whose path equals `path`). */
  totalBodyBytesSent(path?: string): number;
  /**
   * Calls `listener` synchronously as body bytes go out and when a stall begins, so a test can
   * act at an exact byte or moment (kill a client, replace the file). Returns an unsubscribe.
   */
  listen(listener: (event: FaultServerEvent) => void): () => void;
  /** Stops listening and destroys open sockets. */
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;

// ---------------------------------------------------------------------------
// Deterministic content & hashing helpers
// ---------------------------------------------------------------------------

/** Streaming xorshift32 generator; `next(n)` continues where the previous call stopped. */
export class SeededRandomStream {
  private state: number;
  /** Bytes of the current 32-bit word not yet handed out (for sizes not multiple of 4). */
  private pending: Buffer = Buffer.alloc(0);

  constructor(seed: number) {
    // splitmix-style scramble so that small/similar seeds give unrelated streams; never 0.
    let s = (seed ^ 0x9e3779b9) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
    s = (s ^ (s >>> 16)) >>> 0;
    this.state = s === 0 ? 0x6d2b79f5 : s;
  }

  next(size: number): Buffer {
    const out = Buffer.allocUnsafe(size);
    let offset = 0;
    if (this.pending.length > 0) {
      const n = Math.min(size, this.pending.length);
      this.pending.copy(out, 0, 0, n);
      this.pending = this.pending.subarray(n);
      offset = n;
    }
    const words = Math.floor((size - offset) / 4);
    let x = this.state;
    if (words > 0) {
      // Fill whole words through a Uint32Array: a view on `out` when aligned, else a copy.
      const aligned = (out.byteOffset + offset) % 4 === 0;
      const arr = aligned ? new Uint32Array(out.buffer, out.byteOffset + offset, words) : new Uint32Array(words);
      for (let i = 0; i < words; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        arr[i] = x;
      }
      if (!aligned) Buffer.from(arr.buffer, arr.byteOffset, words * 4).copy(out, offset);
      offset += words * 4;
    }
    if (offset < size) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const word = Buffer.allocUnsafe(4);
      word.writeUInt32LE(x >>> 0, 0);
      const n = size - offset;
      word.copy(out, offset, 0, n);
      this.pending = word.subarray(n);
    }
    this.state = x;
    return out;
  }
}

/** Deterministic pseudo-random content (xorshift32). Same seed => same bytes; a prefix of a longer run. */
export function randomBytesSeeded(size: number, seed: number): Buffer {
  return new SeededRandomStream(seed).next(size);
}

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

interface RouteState {
  options: RouteOptions;
  gzipped?: Buffer;
  counters: {
    failWith: number;
    dropAfter: number;
    stallAfter: number;
    status200OnRange: number;
    wrongContentRange: number;
    wrongTotal: number;
    shortBody: number;
  };
}

type Fault =
  | { kind: 'drop'; bytes: number }
  | { kind: 'stall'; bytes: number; ms: number }
  | { kind: 'short'; missing: number };

function newCounters(): RouteState['counters'] {
  return { failWith: 0, dropAfter: 0, stallAfter: 0, status200OnRange: 0, wrongContentRange: 0, wrongTotal: 0, shortBody: 0 };
}

/** Consumes one use of a `times`-limited option; true if it applies to this response. */
function take(state: RouteState, key: keyof RouteState['counters'], times: number | undefined): boolean {
  if (times === undefined || state.counters[key] >= times) return false;
  state.counters[key]++;
  return true;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Parses a single byte range against `len`. null => no usable Range (ignore it). */
function parseRange(header: string, len: number): { start: number; end: number } | 'unsatisfiable' | null {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null; // multiple ranges or garbage: ignore (allowed by RFC 9110)
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    // suffix range: last n bytes
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    if (len === 0) return 'unsatisfiable';
    return { start: Math.max(0, len - n), end: len - 1 };
  }
  const start = Number(a);
  const end = b === '' ? len - 1 : Number(b);
  if (b !== '' && end < start) return null; // invalid => ignore
  if (start >= len) return 'unsatisfiable';
  return { start, end: Math.min(end, len - 1) };
}

function isEntityTag(v: string): boolean {
  return v.startsWith('"') || v.startsWith('W/"');
}

/** RFC 9110 13.1.5 If-Range evaluation (true => the Range may be honoured). */
function ifRangeMatches(value: string, options: RouteOptions): boolean {
  const v = value.trim();
  if (isEntityTag(v)) {
    // Strong comparison: both must be strong and identical.
    if (v.startsWith('W/')) return false;
    const etag = options.etag;
    if (etag === undefined || etag.startsWith('W/')) return false;
    return etag === v;
  }
  // HTTP-date: exact match with the Last-Modified value.
  return options.lastModified !== undefined && options.lastModified === v;
}

/** True if Accept-Encoding allows gzip with q > 0 (missing header => false). */
function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let gzipQ: number | undefined;
  let starQ: number | undefined;
  for (const part of header.split(',')) {
    const [codingRaw, ...params] = part.split(';');
    const coding = codingRaw.trim().toLowerCase();
    if (!coding) continue;
    let q = 1;
    for (const p of params) {
      const pm = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (pm) q = Number(pm[1]);
    }
    if (coding === 'gzip' || coding === 'x-gzip') gzipQ = q;
    else if (coding === '*') starQ = q;
  }
  if (gzipQ !== undefined) return gzipQ > 0;
  return starQ !== undefined && starQ > 0;
}

function sleep(ms: number, res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.once('close', done);
  });
}

function writeChunk(res: http.ServerResponse, chunk: Buffer): Promise<void> {
  // Resolves once the chunk has been handed to the socket (write callback),
  // which also implies backpressure is respected; resolves early on close.
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    const done = () => {
      res.off('close', done);
      resolve();
    };
    res.once('close', done);
    res.write(chunk, () => done());
  });
}

function waitDrain(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || !res.writableNeedDrain) return resolve();
    const done = () => {
      res.off('close', done);
      res.off('drain', done);
      resolve();
    };
    res.once('close', done);
    res.once('drain', done);
  });
}

export async function startFaultServer(): Promise<FaultServer> {
  const routes = new Map<string, RouteState>();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const listeners = new Set<(event: FaultServerEvent) => void>();
  const emit = (event: FaultServerEvent) => {
    for (const listener of listeners) listener(event);
  };

  /** Writes body[0..limit) with backpressure/throttling; records bytes. Returns when the last byte was flushed. */
  async function writeBody(
    res: http.ServerResponse,
    body: Buffer,
    limit: number,
    rec: RecordedRequest,
    rateOf: () => number | undefined,
  ): Promise<void> {
    // When the next chunk is due, advanced chunk by chunk at the rate of the moment: the same pace as
    // from the start while the rate holds, and the new pace at once when a test changes it (setRate).
    let due = Date.now();
    let sent = 0;
    while (sent < limit && !res.destroyed) {
      const rate = rateOf();
      if (rate && rate > 0) {
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait, res);
        if (res.destroyed) break;
      }
      const chunkSize = rate && rate > 0 ? Math.max(1, Math.min(CHUNK, Math.floor(rate / 50))) : CHUNK;
      const n = Math.min(chunkSize, limit - sent);
      due = rate && rate > 0 ? due + (n / rate) * 1000 : Date.now();
      const chunk = body.subarray(sent, sent + n);
      sent += n;
      rec.bodyBytesSent += n;
      emit({ kind: 'body', request: rec });
      if (sent >= limit) {
        // Last chunk: wait until it has been handed to the socket.
        await writeChunk(res, chunk);
      } else if (!res.write(chunk)) {
        await waitDrain(res);
      }
    }
  }

  /** Resolves when everything queued so far (e.g. headers) was handed to the kernel. */
  function flushSocket(res: http.ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const socket = res.socket;
      if (!socket || socket.destroyed) return resolve();
      res.flushHeaders();
      socket.write(Buffer.alloc(0), () => resolve());
      socket.once('close', () => resolve());
    });
  }

  async function sendWithFault(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    rec: RecordedRequest,
    state: RouteState,
    body: Buffer,
  ): Promise<void> {
    const opts = state.options;
    if (req.method === 'HEAD' || body.length === 0) {
      res.end();
      return;
    }
    let fault: Fault | undefined;
    if (opts.dropAfter && take(state, 'dropAfter', opts.dropAfter.times)) {
      fault = { kind: 'drop', bytes: opts.dropAfter.bytes };
    } else if (opts.stallAfter && take(state, 'stallAfter', opts.stallAfter.times)) {
      fault = { kind: 'stall', bytes: opts.stallAfter.bytes, ms: opts.stallAfter.ms };
    } else if (opts.shortBody && take(state, 'shortBody', opts.shortBody.times)) {
      fault = { kind: 'short', missing: opts.shortBody.missing };
    }
    // Read per chunk: setRate reaches responses already under way.
    const rate = () => state.options.rateBytesPerSec;
    if (!fault) {
      await writeBody(res, body, body.length, rec, rate);
      if (!res.destroyed) res.end();
      return;
    }
    const limit =
      fault.kind === 'short'
        ? Math.max(0, body.length - Math.max(0, fault.missing))
        : Math.max(0, Math.min(fault.bytes, body.length));
    if (fault.kind !== 'short' && limit >= body.length) {
      // The cut point is beyond this response's body: send it normally.
      await writeBody(res, body, body.length, rec, rate);
      if (!res.destroyed) res.end();
      return;
    }
    if (limit > 0) await writeBody(res, body, limit, rec, rate);
    else await flushSocket(res);
    if (res.destroyed) return;
    const socket = res.socket;
    rec.faults.push(fault.kind);
    if (fault.kind === 'stall') {
      emit({ kind: 'stall', request: rec, ms: fault.ms });
      await sleep(fault.ms, res);
      socket?.destroy();
    } else if (fault.kind === 'short') {
      socket?.end();
      // Make sure it really goes away even if the client keeps its side open.
      setTimeout(() => socket?.destroy(), 1000).unref();
    } else {
      socket?.destroy();
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const qIndex = rawUrl.indexOf('?');
    const path = qIndex >= 0 ? rawUrl.slice(0, qIndex) : rawUrl;
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      url: rawUrl,
      headers: { ...req.headers },
      status: 0,
      bodyBytesSent: 0,
      faults: [],
    };
    requests.push(rec);
    const writeHead = (status: number, headers: Record<string, string | number>) => {
      rec.status = status;
      res.writeHead(status, headers);
    };

    const state = routes.get(rawUrl) ?? routes.get(path);
    if (!state) {
      writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 9 });
      res.end(req.method === 'HEAD' ? undefined : 'not found');
      if (req.method !== 'HEAD') rec.bodyBytesSent = 9;
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 });
      res.end();
      return;
    }
    const opts = state.options;

    const refusal = opts.refuse?.(rawUrl);
    if (refusal) {
      const text = Buffer.from(refusal.body);
      writeHead(refusal.status, { 'Content-Type': refusal.contentType ?? 'application/xml', 'Content-Length': text.length });
      res.end(req.method === 'HEAD' ? undefined : text);
      if (req.method !== 'HEAD') rec.bodyBytesSent = text.length;
      return;
    }
    if (opts.failWith && take(state, 'failWith', opts.failWith.times)) {
      rec.faults.push('failWith');
      const h: Record<string, string | number> = { 'Content-Length': 0 };
      if (opts.failWith.retryAfter !== undefined) h['Retry-After'] = opts.failWith.retryAfter;
      if (opts.date !== undefined) h['Date'] = opts.date;
      writeHead(opts.failWith.status, h);
      res.end();
      return;
    }
    if (opts.redirect) {
      const location = typeof opts.redirect.location === 'function' ? opts.redirect.location() : opts.redirect.location;
      writeHead(opts.redirect.status ?? 302, { Location: location, 'Content-Length': 0 });
      res.end();
      return;
    }

    const body = opts.body;
    const len = body.length;
    const rangesOn = opts.ranges !== false;
    const base: Record<string, string | number> = {
      'Content-Type': opts.contentType ?? 'application/octet-stream',
    };
    if (rangesOn) base['Accept-Ranges'] = 'bytes';
    if (opts.etag !== undefined) base['ETag'] = opts.etag;
    if (opts.lastModified !== undefined) base['Last-Modified'] = opts.lastModified;
    if (opts.date !== undefined) base['Date'] = opts.date;
    if (opts.contentDisposition !== undefined) base['Content-Disposition'] = opts.contentDisposition;
    Object.assign(base, opts.headers ?? {});

    const sendFull = async () => {
      const h = { ...base, ...(opts.fullHeaders ?? {}) };
      if (!opts.chunked) h['Content-Length'] = len;
      writeHead(200, h);
      await sendWithFault(req, res, rec, state, body);
    };

    if (opts.gzipWhenAccepted && acceptsGzip(headerValue(req.headers['accept-encoding']))) {
      state.gzipped ??= gzipSync(body);
      const gz = state.gzipped;
      const h: Record<string, string | number> = { ...base, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' };
      if (!opts.chunked) h['Content-Length'] = gz.length;
      writeHead(200, h);
      await sendWithFault(req, res, rec, state, gz);
      return;
    }

    const rangeHeader = headerValue(req.headers.range);
    if (!rangesOn || rangeHeader === undefined) return sendFull();

    const ifRange = headerValue(req.headers['if-range']);
    if (ifRange !== undefined && opts.ifRange !== false && !ifRangeMatches(ifRange, opts)) {
      return sendFull();
    }
    if (opts.rangeHeaderLatencyMs) await sleep(opts.rangeHeaderLatencyMs, res);
    if (res.destroyed) return;
    const range = parseRange(rangeHeader, len);
    if (range === null) return sendFull();
    const bounded = /^\s*bytes\s*=\s*\d+\s*-\s*\d+\s*$/i.test(rangeHeader);
    if (bounded && opts.refuseBoundedRanges) {
      rec.faults.push('boundedFull');
      return sendFull();
    }

    if (opts.status200OnRange && take(state, 'status200OnRange', opts.status200OnRange.times)) {
      rec.faults.push('status200OnRange');
      return sendFull();
    }
    if (range === 'unsatisfiable') {
      writeHead(416, { ...base, 'Content-Range': `bytes */${len}`, 'Content-Length': 0 });
      res.end();
      return;
    }

    let { start, end } = range;
    if (bounded && end < len - 1 && opts.openEndedAnswers) {
      rec.faults.push('openEnded');
      end = len - 1;
    }
    if (opts.wrongContentRange && take(state, 'wrongContentRange', opts.wrongContentRange.times)) {
      rec.faults.push('wrongContentRange');
      const count = end - start + 1;
      start = Math.max(0, Math.min(len - 1, start + opts.wrongContentRange.shift));
      end = Math.min(len - 1, start + count - 1);
    }
    let total = len;
    if (opts.wrongTotal && take(state, 'wrongTotal', opts.wrongTotal.times)) {
      rec.faults.push('wrongTotal');
      total = len + 1;
    }

    const part = body.subarray(start, end + 1);
    writeHead(206, {
      ...base,
      'Content-Range': `bytes ${start}-${end}/${total}`,
      'Content-Length': part.length,
    });
    await sendWithFault(req, res, rec, state, part);
  }

  const server = http.createServer((req, res) => {
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    handle(req, res).catch(() => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      } else {
        res.destroy();
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => {
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  let closed: Promise<void> | undefined;

  return {
    origin,
    url(path: string): string {
      return origin + (path.startsWith('/') ? path : `/${path}`);
    },
    route(path: string, options: RouteOptions): void {
      routes.set(path, { options: { ...options }, counters: newCounters() });
    },
    setBody(path: string, body: Buffer, etag?: string, lastModified?: string): void {
      const state = routes.get(path);
      if (!state) throw new Error(`fault-server: no route ${path}`);
      state.options = {
        ...state.options,
        body,
        ...(etag !== undefined ? { etag } : {}),
        ...(lastModified !== undefined ? { lastModified } : {}),
      };
      state.gzipped = undefined;
    },
    setRate(path: string, bytesPerSecond: number | undefined): void {
      const state = routes.get(path);
      if (!state) throw new Error(`fault-server: no route ${path}`);
      state.options = { ...state.options, rateBytesPerSec: bytesPerSecond };
    },
    requests,
    totalBodyBytesSent(path?: string): number {
      return requests
        .filter((r) => path === undefined || r.path === path || r.url === path)
        .reduce((sum, r) => sum + r.bodyBytesSent, 0);
    },
    listen(listener: (event: FaultServerEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
