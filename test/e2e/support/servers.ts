/**
 * HTTP servers of the end-to-end tests, all on 127.0.0.1:
 *   - the fault-injecting range server (test/support/fault-server.ts) that downloads come from;
 *   - a small JSON control server, so that code running elsewhere (the mocha suite inside the
 *     editor's extension host) can define files on the range server and read its request log.
 *
 * The driver (test/e2e/run.ts) starts both and hands the control URL to the suite through the
 * payload's extensionEnvironment (E2E_CONTROL_URL). Without it (e.g. under @vscode/test-electron)
 * the suite starts them in its own process with the same function.
 *
 * Control API (JSON bodies):
 *   POST /files    {path, size, seed, rateBytesPerSec?, etag?}  -> ServedFile
 *   GET  /requests?path=/x.bin                                   -> LoggedRequest[] (all when no path)
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytesSeeded, sha256, startFaultServer, type FaultServer } from '../../support/fault-server';

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
    fault.route(spec.path, { body, etag, rateBytesPerSec: spec.rateBytesPerSec });
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
