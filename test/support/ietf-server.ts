/**
 * Test servers written for the upload tests (no maintained Node server speaks the current draft):
 *
 * - an IETF "Resumable Uploads for HTTP" server (draft-ietf-httpbis-resumable-upload) that speaks
 *   one or several interop versions, each as servers in the field do: 9 (draft -12: no
 *   Accept-Patch in OPTIONS, GET on the upload resource, 413 for a request too big), 7 and 8
 *   (Accept-Patch, application/partial-upload), 5 and 6 (PATCH as application/offset+octet-stream,
 *   nothing announced in OPTIONS). Creation with a 104 carrying the upload URL, HEAD, PATCH,
 *   DELETE, Upload-Limit enforcement, a 400 for a version it does not speak, and fault injection
 *   (drop the connection after N body bytes, once);
 * - a plain PUT server that cannot resume at all;
 * - a server that answers every request with one status (403...).
 *
 * Everything lives in memory; every request is logged.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { listenOnLoopback } from './listen';

export interface UploadLogEntry {
  method: string;
  path: string;
  uploadOffset?: number;
  uploadComplete?: string;
  contentType?: string;
  interopVersion?: string;
  cacheControl?: string;
  /** Body bytes the server received and kept. */
  received: number;
  status: number;
  sent104: boolean;
  /** Request headers as received (tests check which credentials reached which origin). */
  headers?: http.IncomingHttpHeaders;
}

export interface IetfServerOptions {
  /** Limits announced in Upload-Limit and enforced. */
  limits?: { maxSize?: number; maxAppendSize?: number; minAppendSize?: number; maxAge?: number };
  /** Cut the connection once after this many body bytes of one request (the bytes are kept). */
  dropAfterBytes?: number;
  /** Send 104 on creation (default true). */
  send104?: boolean;
  /** Interop version the server speaks (default 9, the current draft). */
  interopVersion?: number;
  /** Every version it accepts (default: just interopVersion); any other gets a 400. */
  acceptedVersions?: number[];
  /** OPTIONS names the newest accepted version in Upload-Draft-Interop-Version (default true). */
  announceVersion?: boolean;
  /** The 104 carries this version instead of the upload's (a foreign 104 the client must ignore). */
  interimVersion?: number;
  /** Requests whose body is bigger get a bare 413 (no Upload-Limit): the client must try smaller. */
  hiddenMaxAppendSize?: number;
  /** HEAD on an upload answers 405 (version 9 clients can ask with GET). */
  refuseHead?: boolean;
  /** A broken server: while this returns true, a PATCH is answered 204 but its bytes are thrown away. */
  keepNothing?: () => boolean;
  /** Runs after every successful PATCH response is sent (tests move the server's offset here). */
  afterPatch?: (upload: StoredUpload) => void;
  /** Pause (ms) after sending the 104, before reading the body. */
  delayAfter104Ms?: number;
  /** Stop reading one request body after this many bytes (once), keeping the connection open. */
  stallAfterBytes?: number;
  /** Hand out upload URLs on this origin (e.g. the server's own when the endpoint is reached through a front). */
  uploadOrigin?: () => string;
}

export interface StoredUpload {
  id: string;
  /** Received bytes, in pieces (concatenating on every chunk would be quadratic). */
  chunks: Buffer[];
  /** Bytes received so far: the offset. */
  size: number;
  length?: number;
  complete: boolean;
  /** Interop version the upload was created with; later requests must send the same. */
  version?: string;
}

export function append(upload: StoredUpload, piece: Buffer): void {
  if (piece.length === 0) return;
  upload.chunks.push(piece);
  upload.size += piece.length;
}

export interface IetfTestServer {
  origin: string;
  /** Creation endpoint. */
  endpoint: string;
  log: UploadLogEntry[];
  uploads: Map<string, StoredUpload>;
  sha256(id: string): string;
  /** Drop the connection again after N body bytes (once). */
  dropNextAfter(bytes: number): void;
  close(): Promise<void>;
}

/** The one upload the server holds; fails the test when it holds none or several (a restart created a second). */
export function onlyUpload(server: IetfTestServer): StoredUpload {
  assert.equal(server.uploads.size, 1);
  return [...server.uploads.values()][0];
}

const PARTIAL_UPLOAD = 'application/partial-upload';
const OFFSET_OCTET_STREAM = 'application/offset+octet-stream';

function limitHeader(limits: IetfServerOptions['limits']): string | undefined {
  if (!limits) return undefined;
  const parts: string[] = [];
  if (limits.maxSize !== undefined) parts.push(`max-size=${limits.maxSize}`);
  if (limits.minAppendSize !== undefined) parts.push(`min-append-size=${limits.minAppendSize}`);
  if (limits.maxAppendSize !== undefined) parts.push(`max-append-size=${limits.maxAppendSize}`);
  if (limits.maxAge !== undefined) parts.push(`max-age=${limits.maxAge}`);
  return parts.length ? parts.join(', ') : undefined;
}

function sfBoolean(value: string | undefined): boolean | undefined {
  if (value === '?1') return true;
  if (value === '?0') return false;
  return undefined;
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startIetfServer(options: IetfServerOptions = {}): Promise<IetfTestServer> {
  const interop = String(options.interopVersion ?? 9);
  const accepted = (options.acceptedVersions ?? [Number(interop)]).map(String);
  const newest = String(Math.max(...accepted.map(Number)));
  const uploads = new Map<string, StoredUpload>();
  const log: UploadLogEntry[] = [];
  let dropAfter = options.dropAfterBytes;
  let stallAfter = options.stallAfterBytes;
  const limits = limitHeader(options.limits);

  /** Appends the request body to `upload` as it arrives; resolves false when the connection broke. */
  const receive = (req: http.IncomingMessage, upload: StoredUpload, entry: UploadLogEntry): Promise<boolean> =>
    new Promise((resolve) => {
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        resolve(ok);
      };
      req.on('data', (chunk: Buffer) => {
        if (done) return;
        let piece = chunk;
        if (dropAfter !== undefined && entry.received + piece.length >= dropAfter) {
          piece = piece.subarray(0, Math.max(0, dropAfter - entry.received));
          append(upload, piece);
          entry.received += piece.length;
          dropAfter = undefined;
          req.socket.destroy();
          finish(false);
          return;
        }
        append(upload, piece);
        entry.received += piece.length;
        if (stallAfter !== undefined && entry.received >= stallAfter) {
          stallAfter = undefined;
          // Take nothing more: the client's watchdog has to notice.
          req.pause();
        }
      });
      req.on('end', () => finish(true));
      req.on('aborted', () => finish(false));
      req.on('close', () => finish(req.complete));
    });

  const baseHeaders = (upload: StoredUpload): Record<string, string> => {
    const headers: Record<string, string> = {
      'upload-offset': String(upload.size),
      'upload-complete': upload.complete ? '?1' : '?0',
    };
    if (upload.length !== undefined) headers['upload-length'] = String(upload.length);
    if (limits) headers['upload-limit'] = limits;
    return headers;
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry: UploadLogEntry = {
      method: req.method ?? '',
      path: url.pathname,
      headers: req.headers,
      uploadOffset: req.headers['upload-offset'] === undefined ? undefined : Number(req.headers['upload-offset']),
      uploadComplete: req.headers['upload-complete'] as string | undefined,
      contentType: req.headers['content-type'],
      interopVersion: req.headers['upload-draft-interop-version'] as string | undefined,
      cacheControl: req.headers['cache-control'],
      received: 0,
      status: 0,
      sent104: false,
    };
    log.push(entry);
    const reply = (status: number, headers: Record<string, string> = {}, body = '') => {
      entry.status = status;
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(status, { ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) });
        res.end(body);
      }
    };
    const contentLength = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);

    /** Answers before reading the body, and closes: the client stops sending. */
    const refuse = (status: number, headers: Record<string, string> = {}, body = '') => reply(status, { ...headers, connection: 'close' }, body);
    const tooBig = () => options.hiddenMaxAppendSize !== undefined && contentLength !== undefined && contentLength > options.hiddenMaxAppendSize;

    if (req.method === 'OPTIONS') {
      const headers: Record<string, string> = { allow: 'OPTIONS, POST, PUT' };
      // Versions 7 and 8 list the append media type; 9 dropped it; 5 and 6 announced nothing.
      if (Number(newest) === 7 || Number(newest) === 8) headers['accept-patch'] = PARTIAL_UPLOAD;
      if (options.announceVersion !== false) headers['upload-draft-interop-version'] = newest;
      if (limits) headers['upload-limit'] = limits;
      return reply(204, headers);
    }

    // Creation: POST (or PUT, the "upgrade" of a plain upload) to anything outside /uploads/.
    if ((req.method === 'POST' || req.method === 'PUT') && !url.pathname.startsWith('/uploads/')) {
      const complete = sfBoolean(req.headers['upload-complete'] as string | undefined);
      if (complete !== undefined && entry.interopVersion !== undefined && !accepted.includes(entry.interopVersion)) {
        return refuse(400, { 'content-type': 'application/problem+json' }, JSON.stringify({ title: `interop version ${entry.interopVersion} is not supported` }));
      }
      if (tooBig()) return refuse(413);
      if (complete === undefined || entry.interopVersion === undefined) {
        // Not a resumable upload request: take the body as a plain upload.
        const upload: StoredUpload = { id: randomUUID(), chunks: [], size: 0, complete: false };
        const ok = await receive(req, upload, entry);
        if (!ok) return;
        upload.complete = true;
        uploads.set(upload.id, upload);
        return reply(201, { location: `/plain/${upload.id}` });
      }
      const uploadLength = req.headers['upload-length'] === undefined ? undefined : Number(req.headers['upload-length']);
      const length = uploadLength ?? (complete ? contentLength : undefined);
      if (options.limits?.maxSize !== undefined && length !== undefined && length > options.limits.maxSize) {
        return reply(413, limits ? { 'upload-limit': limits } : {});
      }
      if (options.limits?.maxAppendSize !== undefined && contentLength !== undefined && contentLength > options.limits.maxAppendSize) {
        return reply(413, limits ? { 'upload-limit': limits } : {});
      }
      const upload: StoredUpload = { id: randomUUID(), chunks: [], size: 0, length, complete: false, version: entry.interopVersion };
      uploads.set(upload.id, upload);
      const location = `${options.uploadOrigin?.() ?? ''}/uploads/${upload.id}`;
      if (options.send104 !== false) {
        const version = options.interimVersion !== undefined ? String(options.interimVersion) : entry.interopVersion;
        // A 104 of another version points elsewhere: a client that followed it would be caught.
        const where = options.interimVersion !== undefined ? '/uploads/foreign-104' : location;
        const lines = ['HTTP/1.1 104 Upload Resumption Supported', `Location: ${where}`, `Upload-Draft-Interop-Version: ${version}`];
        if (limits) lines.push(`Upload-Limit: ${limits}`);
        res.socket?.write(`${lines.join('\r\n')}\r\n\r\n`);
        entry.sent104 = true;
        if (options.delayAfter104Ms) await new Promise((r) => setTimeout(r, options.delayAfter104Ms));
      }
      const ok = await receive(req, upload, entry);
      if (!ok) return;
      if (complete) {
        upload.complete = true;
        return reply(200, { location, 'upload-complete': '?1', 'content-type': 'application/json' }, JSON.stringify({ id: upload.id }));
      }
      return reply(201, { location, ...baseHeaders(upload) });
    }

    const match = /^\/uploads\/([^/]+)$/.exec(url.pathname);
    const upload = match ? uploads.get(match[1]) : undefined;
    if (!upload) return reply(404);

    if (req.headers['upload-draft-interop-version'] !== upload.version) return refuse(400);
    if (req.method === 'HEAD') {
      if (options.refuseHead) return reply(405, { allow: 'GET, PATCH, DELETE' });
      return reply(204, { ...baseHeaders(upload), 'cache-control': 'no-store' });
    }
    if (req.method === 'GET' && Number(upload.version) >= 9) return reply(204, { ...baseHeaders(upload), 'cache-control': 'no-store' });
    if (req.method === 'DELETE') {
      uploads.delete(upload.id);
      return reply(204);
    }
    if (req.method === 'PATCH') {
      const appendType = Number(upload.version) >= 7 ? PARTIAL_UPLOAD : OFFSET_OCTET_STREAM;
      if (req.headers['content-type'] !== appendType) return refuse(415);
      if (upload.complete) return reply(400, { 'content-type': 'application/problem+json' }, '{"type":"https://iana.org/assignments/http-problem-types#completed-upload"}');
      if (entry.uploadOffset !== upload.size) {
        return reply(
          409,
          { 'content-type': 'application/problem+json', 'upload-offset': String(upload.size) },
          JSON.stringify({ type: 'https://iana.org/assignments/http-problem-types#mismatching-upload-offset', 'expected-offset': upload.size, 'provided-offset': entry.uploadOffset }),
        );
      }
      if (options.limits?.maxAppendSize !== undefined && contentLength !== undefined && contentLength > options.limits.maxAppendSize) {
        return reply(413, limits ? { 'upload-limit': limits } : {});
      }
      if (tooBig()) return refuse(413);
      const complete = sfBoolean(req.headers['upload-complete'] as string | undefined);
      if (complete === undefined) return reply(400);
      const before = upload.size;
      const ok = await receive(req, upload, entry);
      if (!ok) return;
      if (!complete && options.keepNothing?.()) {
        upload.chunks = [Buffer.concat(upload.chunks).subarray(0, before)];
        upload.size = before;
      }
      if (complete) {
        if (upload.length !== undefined && upload.length !== upload.size) return reply(400);
        upload.complete = true;
        return reply(200, { 'upload-complete': '?1' });
      }
      reply(204, baseHeaders(upload));
      options.afterPatch?.(upload);
      return;
    }
    return reply(405);
  });
  const origin = await listenOnLoopback(server);
  return {
    origin,
    endpoint: `${origin}/files`,
    log,
    uploads,
    sha256: (id) => {
      const hash = createHash('sha256');
      for (const chunk of uploads.get(id)?.chunks ?? []) hash.update(chunk);
      return hash.digest('hex');
    },
    dropNextAfter(bytes) {
      dropAfter = bytes;
    },
    close: () => closeServer(server),
  };
}

export interface PlainPutServer {
  origin: string;
  url(name: string): string;
  files: Map<string, Buffer>;
  log: UploadLogEntry[];
  close(): Promise<void>;
}

/** A server that takes whole files with PUT and knows nothing about resuming. */
export async function startPlainPutServer(): Promise<PlainPutServer> {
  const files = new Map<string, Buffer>();
  const log: UploadLogEntry[] = [];
  const server = http.createServer((req, res) => {
    const entry: UploadLogEntry = { method: req.method ?? '', path: req.url ?? '', received: 0, status: 0, sent104: false, contentType: req.headers['content-type'] };
    log.push(entry);
    const reply = (status: number, headers: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, headers);
      res.end();
    };
    if (req.method === 'OPTIONS') return reply(200, { allow: 'OPTIONS, GET, PUT' });
    if (req.method !== 'PUT') return reply(405, { allow: 'OPTIONS, GET, PUT' });
    if (req.headers['content-range']) return reply(400);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      entry.received += chunk.length;
    });
    req.on('end', () => {
      const existed = files.has(req.url ?? '');
      files.set(req.url ?? '', Buffer.concat(chunks));
      reply(existed ? 204 : 201);
    });
  });
  const origin = await listenOnLoopback(server);
  return { origin, url: (name) => `${origin}/${name}`, files, log, close: () => closeServer(server) };
}

/** Answers every request with `status` (e.g. 403) and counts requests. */
export async function startStatusServer(status: number): Promise<{ origin: string; requests: () => number; close(): Promise<void> }> {
  let count = 0;
  const server = http.createServer((req, res) => {
    count += 1;
    req.resume();
    res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`status ${status}`);
  });
  const origin = await listenOnLoopback(server);
  return { origin, requests: () => count, close: () => closeServer(server) };
}
