/**
 * HTTP servers of the end-to-end tests, all on 127.0.0.1:
 *   - the fault-injecting range server (test/support/fault-server.ts) that downloads come from;
 *   - a small JSON control server, so that code running elsewhere (the mocha suite inside the
 *     editor's extension host) can define files on the range server and read its request log;
 *   - for the upload UI test, a real tus 1.0 server (@tus/server with @tus/file-store, storing into a
 *     given folder) behind the TCP throttle proxy of the integration tests (startE2eTusServer; not
 *     part of startE2eServers, the in-editor suite does not need it).
 *
 * The driver (test/e2e/run.ts) starts both and hands the control URL to the suite through the
 * payload's extensionEnvironment (E2E_CONTROL_URL). Without it (e.g. under @vscode/test-electron)
 * the suite starts them in its own process with the same function.
 *
 * Control API (JSON bodies):
 *   POST /files    {path, size, seed, rateBytesPerSec?, etag?, contentDisposition?}  -> ServedFile
 *   GET  /requests?path=/x.bin                                   -> LoggedRequest[] (all when no path)
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { randomBytesSeeded, sha256, startFaultServer, type FaultServer } from '../../support/fault-server';
import { startThrottleProxy } from '../../support/throttle-proxy';

export interface FileSpec {
  /** URL path on the range server, e.g. '/big.bin'. */
  path: string;
  size: number;
  /** Content = randomBytesSeeded(size, seed). */
  seed: number;
  /** Throttle each response to this many bytes per second. */
  rateBytesPerSec?: number;
  /** Strong ETag (default `"e2e-<seed>-<size>"`); '' for none. */
  etag?: string;
  /** A Content-Disposition header, to let the server name the download. */
  contentDisposition?: string;
}

export interface ServedFile {
  url: string;
  path: string;
  size: number;
  sha256: string;
  /** The ETag header the server sends (undefined when none). */
  etag?: string;
}

export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
  range?: string;
  ifRange?: string;
  /** The Authorization header the server received (test credentials only). */
  authorization?: string;
  /** Cookie and a custom header the server received (test values only). */
  cookie?: string;
  token?: string;
  bodyBytesSent: number;
  /** Position in the server's log (0 = first request since start): compare to tell before from after. */
  seq: number;
}

export interface E2eServers {
  fault: FaultServer;
  /** http://127.0.0.1:<port> of the control server. */
  controlUrl: string;
  /** Defines a file in this process (the same as POST /files). */
  serve(spec: FileSpec): ServedFile;
  requests(path?: string): LoggedRequest[];
  close(): Promise<void>;
}

const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(', ') : value);

export async function startE2eServers(): Promise<E2eServers> {
  const fault = await startFaultServer();
  const serve = (spec: FileSpec): ServedFile => {
    const body = randomBytesSeeded(spec.size, spec.seed);
    const etag = spec.etag === '' ? undefined : (spec.etag ?? `"e2e-${spec.seed}-${spec.size}"`);
    fault.route(spec.path, { body, etag, rateBytesPerSec: spec.rateBytesPerSec, contentDisposition: spec.contentDisposition });
    return { url: fault.url(spec.path), path: spec.path, size: spec.size, sha256: sha256(body), etag };
  };
  const requests = (path?: string): LoggedRequest[] => {
    return fault.requests
      .map((r, seq) => ({ r, seq }))
      .filter(({ r }) => path === undefined || r.path === path)
      .map(({ r, seq }) => ({
        method: r.method,
        path: r.path,
        status: r.status,
        range: header(r.headers.range),
        ifRange: header(r.headers['if-range']),
        authorization: header(r.headers.authorization),
        cookie: header(r.headers.cookie),
        token: header(r.headers['x-token']),
        bodyBytesSent: r.bodyBytesSent,
        seq,
      }));
  };

  const control = http.createServer((req, res) => {
    const reply = (status: number, value: unknown): void => {
      const text = JSON.stringify(value);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const url = new URL(req.url ?? '/', 'http://control');
    if (req.method === 'GET' && url.pathname === '/requests') {
      reply(200, requests(url.searchParams.get('path') ?? undefined));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/files') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          reply(200, serve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as FileSpec));
        } catch (error) {
          reply(400, { error: String(error) });
        }
      });
      return;
    }
    reply(404, { error: `no ${req.method} ${url.pathname}` });
  });
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    control.listen(0, '127.0.0.1', () => resolve());
  });
  const controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;

  return {
    fault,
    controlUrl,
    serve,
    requests,
    async close() {
      control.closeAllConnections();
      await new Promise<void>((resolve) => control.close(() => resolve()));
      await fault.close();
    },
  };
}

/** Client of the control server (used by the suite inside the extension host). */
export class ServersClient {
  constructor(readonly controlUrl: string) {}

  async serve(spec: FileSpec): Promise<ServedFile> {
    const res = await fetch(`${this.controlUrl}/files`, { method: 'POST', body: JSON.stringify(spec) });
    if (!res.ok) throw new Error(`control server: POST /files answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as ServedFile;
  }

  async requests(path?: string): Promise<LoggedRequest[]> {
    const res = await fetch(`${this.controlUrl}/requests${path ? `?path=${encodeURIComponent(path)}` : ''}`);
    if (!res.ok) throw new Error(`control server: GET /requests answered ${res.status}`);
    return (await res.json()) as LoggedRequest[];
  }
}

// ------------------------------------------------------------------------------------ tus server (upload UI test)

export interface TusLoggedRequest {
  /** Arrival order (0 = first request since start). */
  seq: number;
  /** Date.now() when the request arrived. */
  at: number;
  method: string;
  url: string;
  /** Upload-Offset request header (PATCH). */
  uploadOffset?: number;
  /** Status of the answer; undefined while the request is still open. */
  status?: number;
}

export interface TusUpload {
  id: string;
  /** The data file @tus/file-store writes the upload's bytes to. */
  file: string;
  size: number;
}

export interface E2eTusServer {
  /** Creation endpoint as a client should use it: through the throttle proxy, `http://127.0.0.1:<proxy>/files/`. */
  endpoint: string;
  /** Folder of the file store (one data file and one `.json` per upload). */
  directory: string;
  /** Every request in arrival order; logged when it arrives, so an aborted PATCH is in its place. */
  requests(): TusLoggedRequest[];
  /** The uploads the store holds, with the current size of their data files. */
  uploads(): Promise<TusUpload[]>;
  sha256Of(upload: TusUpload): Promise<string>;
  /** Client → server bytes per second through the proxy (Infinity: no limit). */
  setRate(bytesPerSecond: number): void;
  close(): Promise<void>;
}

/**
 * A real tus 1.0 server on 127.0.0.1 (@tus/server + @tus/file-store into `directory`) and, in front
 * of it, the integration tests' throttle proxy (client → server at `rateBytesPerSec`). @tus/server is
 * an ES module loaded on first use, so the in-editor suite (which bundles this file) never loads it.
 */
export async function startE2eTusServer(options: { directory: string; rateBytesPerSec: number }): Promise<E2eTusServer> {
  const [{ Server }, { FileStore }] = await Promise.all([import('@tus/server'), import('@tus/file-store')]);
  const directory = path.resolve(options.directory);
  await mkdir(directory, { recursive: true });
  const tus = new Server({ path: '/files', datastore: new FileStore({ directory }), respectForwardedHeaders: false });
  const log: TusLoggedRequest[] = [];
  const server = http.createServer((req, res) => {
    const offset = req.headers['upload-offset'];
    const entry: TusLoggedRequest = {
      seq: log.length,
      at: Date.now(),
      method: req.method ?? '',
      url: req.url ?? '',
      uploadOffset: offset === undefined ? undefined : Number(offset),
    };
    log.push(entry);
    res.on('close', () => {
      entry.status = res.statusCode;
    });
    void tus.handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const proxy = await startThrottleProxy((server.address() as AddressInfo).port, options.rateBytesPerSec);

  const uploads = async (): Promise<TusUpload[]> => {
    const found: TusUpload[] = [];
    for (const id of (await readdir(directory)).filter((name) => !name.endsWith('.json'))) {
      const file = path.join(directory, id);
      try {
        found.push({ id, file, size: (await stat(file)).size });
      } catch {
        // removed meanwhile (termination)
      }
    }
    return found;
  };
  return {
    endpoint: `${proxy.origin}/files/`,
    directory,
    requests: () => log.map((entry) => ({ ...entry })),
    uploads,
    async sha256Of(upload) {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(upload.file)) hash.update(chunk as Buffer);
      return hash.digest('hex');
    },
    setRate: (bytesPerSecond) => proxy.setRate(bytesPerSecond),
    async close() {
      await proxy.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
