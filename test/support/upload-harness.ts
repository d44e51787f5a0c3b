/** Shared set-up for upload tests: a temp folder, files with known content, the engine wired up. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  MemoryTransferStore,
  NodeFetchHttpClient,
  UploadTask,
  createUploadRecord,
  type UploadOptions,
  type UploadProtocolChoice,
  type UploadRecord,
} from '../../src/core';
import { FAST_RETRY } from './engine';
import { recordingLogger } from './logs';

export interface UploadHarness {
  dir: string;
  store: MemoryTransferStore;
  http: NodeFetchHttpClient;
  logs: string[];
  /** Writes `size` random bytes to `name`; returns the path and the content's sha256. */
  file(name: string, size: number): Promise<{ file: string; data: Buffer; sha256: string }>;
  task(
    file: string,
    url: string,
    options?: Partial<UploadOptions> & { protocol?: UploadProtocolChoice; chunkSize?: number; record?: UploadRecord },
  ): Promise<UploadTask>;
  cleanup(): Promise<void>;
}

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

export async function createUploadHarness(): Promise<UploadHarness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-up-'));
  const store = new MemoryTransferStore();
  const http = new NodeFetchHttpClient({ connectTimeoutMs: 5_000, responseTimeoutMs: 20_000 });
  const logs: string[] = [];
  const logger = recordingLogger(logs);
  let counter = 0;
  return {
    dir,
    store,
    http,
    logs,
    async file(name, size) {
      const data = randomBytes(size);
      const file = path.join(dir, name);
      await writeFile(file, data);
      return { file, data, sha256: sha256(data) };
    },
    async task(file, url, options = {}) {
      const { protocol, chunkSize, record: given, ...rest } = options;
      const record = given ?? (await createUploadRecord({ id: `u${++counter}`, url, file, protocol, chunkSize, now: Date.now() }));
      return new UploadTask(record, { http, store, logger, retry: FAST_RETRY, stallTimeoutMs: 3_000, ...rest });
    },
    async cleanup() {
      http.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const run = (task: UploadTask, signal = new AbortController().signal): Promise<UploadRecord> => task.run(signal);
