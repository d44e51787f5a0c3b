/**
 * Sample file server for `npm start`: a small range-capable HTTP/1.1 server on 127.0.0.1 that
 * serves generated files to try the extension against.
 *
 *   GET|HEAD /files/sample-1MiB.bin, sample-64MiB.bin, sample-512MiB.bin
 *       Deterministic content (AES-128-CTR keystream of a per-file, per-version key), generated on
 *       the fly for any byte range: nothing is written to disk. Strong ETag and Last-Modified;
 *       honours Range (one range: a-b, a-, -n), If-Range, If-Match, If-None-Match,
 *       If-Modified-Since and If-Unmodified-Since (RFC 9110). Each connection is throttled
 *       (default 10 MiB/s; `?rate=<MiB/s>` per request, 0 = unthrottled) so a transfer can be
 *       watched, paused and resumed.
 *   GET  /files/<name>.sha256   the SHA-256 of the current version (computed once, then cached)
 *   POST /drop                  cut every response that is sending a body (a dropped connection)
 *   POST /bump/<name>           change the file: new content, new ETag and Last-Modified
 *   GET  /healthz               "ok"
 *   GET  /                      an index of the above
 *
 * Usage: node --import tsx scripts/start/file-server.ts [--port <n>] [--rate <MiB/s>] [--quiet]
 * (env FILES_PORT, FILES_RATE_MIB, FILES_QUIET=1 do the same; port 0 = any free port).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCipheriv, createHash } from 'node:crypto';

const MiB = 1024 * 1024;

interface SampleFile {
  name: string;
  size: number;
  version: number;
  sha256?: Promise<string>;
}

const FILES: SampleFile[] = [
  { name: 'sample-1MiB.bin', size: 1 * MiB, version: 1 },
  { name: 'sample-64MiB.bin', size: 64 * MiB, version: 1 },
  { name: 'sample-512MiB.bin', size: 512 * MiB, version: 1 },
];

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const PORT = Number(argValue('--port') ?? process.env.FILES_PORT ?? 8081);
const DEFAULT_RATE_MIB = Number(argValue('--rate') ?? process.env.FILES_RATE_MIB ?? 10);
const QUIET = process.argv.includes('--quiet') || process.env.FILES_QUIET === '1';

// Fixed, deterministic validators: the same version has the same ETag and date across restarts,
// so a download can even be resumed after `npm start` was stopped and started again.
const EPOCH = Date.UTC(2025, 0, 1, 0, 0, 0);
const etagOf = (f: SampleFile): string => `"${f.name}-v${f.version}"`;
const lastModifiedOf = (f: SampleFile): string => new Date(EPOCH + (f.version - 1) * 60_000).toUTCString();

function log(line: string): void {
  if (!QUIET) console.log(`[files] ${line}`);
}

// ------------------------------------------------------------------------------ content

const CHUNK = 64 * 1024;
// 16 spare bytes: a read that starts inside an AES block first produces (and drops) up to 15 bytes.
const ZEROS = Buffer.alloc(CHUNK + 16);

/** Keystream generator positioned at `offset` of the file's content. */
function contentReader(f: SampleFile, offset: number): (n: number) => Buffer {
  const key = createHash('sha256').update(`resumable-transfers sample ${f.name} v${f.version}`).digest().subarray(0, 16);
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(Math.floor(offset / 16)), 8);
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  let skip = offset % 16;
  return (n: number): Buffer => {
    const out = cipher.update(ZEROS.subarray(0, n + skip));
    const chunk = out.subarray(skip);
    skip = 0;
    return chunk;
  };
}

function sha256Of(f: SampleFile): Promise<string> {
  if (!f.sha256) {
    f.sha256 = new Promise((resolve) => {
      const hash = createHash('sha256');
      const read = contentReader(f, 0);
      let done = 0;
      const step = (): void => {
        // Hash in slices so the server keeps answering other requests meanwhile.
        const stop = Math.min(f.size, done + 16 * MiB);
        while (done < stop) {
          const n = Math.min(CHUNK, stop - done);
          hash.update(read(n));
          done += n;
        }
        if (done < f.size) setImmediate(step);
        else resolve(hash.digest('hex'));
      };
      step();
    });
  }
  return f.sha256;
}

// ------------------------------------------------------------------------------ HTTP rules

/** Parses a single byte range against `size`: [start, end] inclusive, 'unsatisfiable', or undefined (ignore the header). */
function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | undefined {
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // multiple ranges or syntax we do not serve: full body
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(m[1]);
  let end = m[2] === '' ? size - 1 : Number(m[2]);
  if (m[2] !== '' && end < start) return undefined; // invalid range: ignore it
  if (start >= size) return 'unsatisfiable';
  end = Math.min(end, size - 1);
  return [start, end];
}

const listOf = (h: string): string[] => h.split(',').map((s) => s.trim()).filter(Boolean);
const weakEq = (a: string, b: string): boolean => a.replace(/^W\//, '') === b.replace(/^W\//, '');
const strongEq = (a: string, b: string): boolean => !a.startsWith('W/') && !b.startsWith('W/') && a === b;
const dateOf = (h: string | undefined): number | undefined => {
  if (!h) return undefined;
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : t;
};

/** RFC 9110 §13.2.2 preconditions except If-Range: 412, 304, or undefined to go on. */
function preconditions(req: http.IncomingMessage, f: SampleFile): 304 | 412 | undefined {
  const etag = etagOf(f);
  const lastModified = Date.parse(lastModifiedOf(f));
  const ifMatch = req.headers['if-match'];
  if (ifMatch !== undefined) {
    if (ifMatch.trim() !== '*' && !listOf(ifMatch).some((t) => strongEq(t, etag))) return 412;
  } else {
    const ius = dateOf(req.headers['if-unmodified-since']);
    if (ius !== undefined && lastModified > ius) return 412;
  }
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    if (inm.trim() === '*' || listOf(inm).some((t) => weakEq(t, etag))) return 304;
  } else {
    const ims = dateOf(req.headers['if-modified-since']);
    if (ims !== undefined && lastModified <= ims) return 304;
  }
  return undefined;
}

/** If-Range: a strong ETag must match exactly; a date must equal Last-Modified exactly. */
function ifRangeHolds(req: http.IncomingMessage, f: SampleFile): boolean {
  const h = req.headers['if-range'];
  if (h === undefined) return true;
  const v = String(h).trim();
  if (v.startsWith('"') || v.startsWith('W/')) return strongEq(v, etagOf(f));
  return v === lastModifiedOf(f);
}

// ------------------------------------------------------------------------------ sending

const sending = new Set<http.ServerResponse>();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function sendBody(res: http.ServerResponse, f: SampleFile, start: number, end: number, rateBytes: number): Promise<number> {
  const read = contentReader(f, start);
  const total = end - start + 1;
  const chunkSize = rateBytes > 0 ? Math.max(4096, Math.min(CHUNK, Math.floor(rateBytes / 50))) : CHUNK;
  const t0 = Date.now();
  let sent = 0;
  sending.add(res);
  try {
    while (sent < total) {
      if (res.destroyed) break;
      if (rateBytes > 0) {
        const due = t0 + (sent / rateBytes) * 1000;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
        if (res.destroyed) break;
      }
      const n = Math.min(chunkSize, total - sent);
      const ok = res.write(read(n));
      sent += n;
      if (!ok && sent < total) {
        await new Promise<void>((resolve) => {
          const done = (): void => { res.off('drain', done); res.off('close', done); resolve(); };
          res.once('drain', done);
          res.once('close', done);
        });
      }
    }
    if (!res.destroyed) res.end();
  } finally {
    sending.delete(res);
  }
  return sent;
}

function fmt(n: number): string {
  return n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

function plain(res: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

function index(base: string): string {
  const rows = FILES.map((f) => `<li><a href="/files/${f.name}">${base}/files/${f.name}</a> — ${fmt(f.size)}, ETag ${etagOf(f)}, ` +
    `<a href="/files/${f.name}.sha256">sha256</a></li>`).join('\n');
  return `<!doctype html><meta charset="utf-8"><title>Sample files</title>
<h1>Sample files for Resumable Transfers</h1>
<p>Paste a URL into <b>Transfers: Download URL…</b>. Every connection is throttled to ${DEFAULT_RATE_MIB || 'unlimited'} MiB/s
(add <code>?rate=&lt;MiB/s&gt;</code> to change it for one URL; 0 = no limit).</p>
<ul>
${rows}
</ul>
<p><code>curl -X POST ${base}/drop</code> cuts every running response (the download should resume by itself).<br>
<code>curl -X POST ${base}/bump/sample-64MiB.bin</code> changes that file (new content and ETag: a resume must start over, not splice).</p>
`;
}

// ------------------------------------------------------------------------------ server

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = req.method ?? 'GET';
  const base = `http://${req.headers.host ?? `127.0.0.1:${(server.address() as AddressInfo).port}`}`;
  const p = decodeURIComponent(url.pathname);

  if (p === '/healthz') return plain(res, 200, 'ok\n');
  if (p === '/' && (method === 'GET' || method === 'HEAD')) {
    const body = index(base);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    return res.end(method === 'HEAD' ? undefined : body);
  }
  if (p === '/drop' && method === 'POST') {
    const n = sending.size;
    for (const r of sending) r.destroy();
    log(`POST /drop: cut ${n} response(s)`);
    return plain(res, 200, `cut ${n} response(s)\n`);
  }
  const bump = /^\/bump\/([^/]+)$/.exec(p);
  if (bump && method === 'POST') {
    const f = FILES.find((x) => x.name === bump[1]);
    if (!f) return plain(res, 404, 'no such file\n');
    f.version += 1;
    f.sha256 = undefined;
    log(`POST /bump: ${f.name} is now version ${f.version}, ETag ${etagOf(f)}`);
    return plain(res, 200, `${f.name}: version ${f.version}, ETag ${etagOf(f)}, Last-Modified ${lastModifiedOf(f)}\n`);
  }
  const m = /^\/files\/([^/]+?)(\.sha256)?$/.exec(p);
  const f = m ? FILES.find((x) => x.name === m[1]) : undefined;
  if (!m || !f) return plain(res, 404, 'not found\n');
  if (method !== 'GET' && method !== 'HEAD') return plain(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });

  if (m[2]) {
    void sha256Of(f).then((hex) => plain(res, 200, `${hex}  ${f.name}\n`));
    return;
  }

  const rateParam = url.searchParams.get('rate');
  const rateMib = rateParam !== null && rateParam !== '' && Number.isFinite(Number(rateParam)) ? Number(rateParam) : DEFAULT_RATE_MIB;
  const common: http.OutgoingHttpHeaders = {
    'Accept-Ranges': 'bytes',
    ETag: etagOf(f),
    'Last-Modified': lastModifiedOf(f),
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': `attachment; filename="${f.name}"`,
    'Cache-Control': 'no-cache',
  };
  const rangeHeader = req.headers.range;
  const tag = `${method} ${p}${url.search}${rangeHeader ? ` Range: ${rangeHeader}` : ''}${req.headers['if-range'] ? ` If-Range: ${req.headers['if-range']}` : ''}`;

  const pre = preconditions(req, f);
  if (pre !== undefined) {
    log(`${tag} -> ${pre}`);
    res.writeHead(pre, pre === 304 ? { ETag: etagOf(f), 'Last-Modified': lastModifiedOf(f) } : { 'Content-Length': 0 });
    return res.end();
  }

  let start = 0;
  let end = f.size - 1;
  let status = 200;
  if (rangeHeader !== undefined && ifRangeHolds(req, f)) {
    const r = parseRange(rangeHeader, f.size);
    if (r === 'unsatisfiable') {
      log(`${tag} -> 416`);
      res.writeHead(416, { ...common, 'Content-Range': `bytes */${f.size}`, 'Content-Length': 0 });
      return res.end();
    }
    if (r) {
      [start, end] = r;
      status = 206;
    }
  }
  const length = end - start + 1;
  res.writeHead(status, {
    ...common,
    'Content-Length': length,
    ...(status === 206 ? { 'Content-Range': `bytes ${start}-${end}/${f.size}` } : {}),
  });
  if (method === 'HEAD') {
    log(`${tag} -> ${status}`);
    return res.end();
  }
  log(`${tag} -> ${status} ${status === 206 ? `bytes ${start}-${end}` : 'full body'} (${fmt(length)}${rateMib > 0 ? ` at ${rateMib} MiB/s` : ''})`);
  const t0 = Date.now();
  void sendBody(res, f, start, end, rateMib * MiB).then((sent) => {
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (sent < length || !res.writableFinished) {
      log(`${p}: connection closed after ${fmt(sent)} of ${fmt(length)} (${secs} s)`);
    } else {
      log(`${p}: sent ${fmt(sent)} in ${secs} s`);
    }
  });
});

server.keepAliveTimeout = 5000;
server.listen(PORT, '127.0.0.1', () => {
  const port = (server.address() as AddressInfo).port;
  console.log(`[files] listening on http://127.0.0.1:${port} (${DEFAULT_RATE_MIB > 0 ? `${DEFAULT_RATE_MIB} MiB/s per connection` : 'unthrottled'})`);
});
server.on('error', (err: NodeJS.ErrnoException) => {
  console.error(`[files] ${err.code === 'EADDRINUSE' ? `port ${PORT} is already in use (set FILES_PORT)` : err.message}`);
  process.exit(1);
});

const shutdown = (): void => {
  for (const r of sending) r.destroy();
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
