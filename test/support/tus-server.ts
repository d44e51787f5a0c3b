/**
 * A real tus 1.0 server for integration tests: @tus/server with @tus/file-store on 127.0.0.1,
 * storing into a fresh temp folder, with a log of every request it answered.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';

export interface TusLogEntry {
  method: string;
  url: string;
  /** Upload-Offset request header (PATCH), undefined when absent. */
  uploadOffset?: number;
  status: number;
}

export interface TusTestServer {
  origin: string;
  port: number;
  /** Creation endpoint: `${origin}/files/` */
  endpoint: string;
  directory: string;
  log: TusLogEntry[];
  /** Path and size of the data file of the (only or given) upload. */
  uploadFile(id?: string): Promise<{ file: string; size: number } | undefined>;
  sha256Of(id?: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function startTusServer(options: { maxSize?: number } = {}): Promise<TusTestServer> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'rt-tus-'));
  const tus = new Server({
    path: '/files',
    datastore: new FileStore({ directory }),
    maxSize: options.maxSize,
    respectForwardedHeaders: false,
  });
  const log: TusLogEntry[] = [];
  const server = http.createServer((req, res) => {
    const offsetHeader = req.headers['upload-offset'];
    res.on('close', () => {
      log.push({
        method: req.method ?? '',
        url: req.url ?? '',
        uploadOffset: offsetHeader === undefined ? undefined : Number(offsetHeader),
        status: res.statusCode,
      });
    });
    void tus.handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  const dataFiles = async (): Promise<string[]> => (await readdir(directory)).filter((name) => !name.endsWith('.json'));
  const uploadFile = async (id?: string) => {
    const name = id ?? (await dataFiles())[0];
    if (!name) return undefined;
    const file = path.join(directory, name);
    try {
      return { file, size: (await stat(file)).size };
    } catch {
      return undefined;
    }
  };
  return {
    origin,
    port,
    endpoint: `${origin}/files/`,
    directory,
    log,
    uploadFile,
    async sha256Of(id) {
      const found = await uploadFile(id);
      if (!found) return undefined;
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(found.file)) hash.update(chunk as Buffer);
      return hash.digest('hex');
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(directory, { recursive: true, force: true });
    },
  };
}
