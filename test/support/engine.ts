import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DownloadTask,
  MemoryTransferStore,
  NodeFetchHttpClient,
  newDownloadRecord,
  type DownloadOptions,
  type DownloadRecord,
} from '../../src/core';
import { recordingLogger } from './logs';

/** Fast retries so fault tests take milliseconds, not the production backoff. */
export const FAST_RETRY = { retries: 4, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 5_000 };

export interface Harness {
  dir: string;
  store: MemoryTransferStore;
  http: NodeFetchHttpClient;
  logs: string[];
  task(url: string, options?: Partial<DownloadOptions> & { record?: Partial<DownloadRecord> }): DownloadTask;
  cleanup(): Promise<void>;
}

export async function createHarness(): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-dl-'));
  const store = new MemoryTransferStore();
  const http = new NodeFetchHttpClient({ connectTimeoutMs: 5_000, responseTimeoutMs: 10_000 });
  const logs: string[] = [];
  const logger = recordingLogger(logs);
  let counter = 0;
  return {
    dir,
    store,
    http,
    logs,
    task(url, options = {}) {
      const { record: overrides, ...rest } = options;
      const record = { ...newDownloadRecord({ id: `t${++counter}`, url, targetDir: dir, now: Date.now() }), ...overrides };
      return new DownloadTask(record, { http, store, logger, retry: FAST_RETRY, stallTimeoutMs: 2_000, ...rest });
    },
    async cleanup() {
      http.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function runToEnd(task: DownloadTask): Promise<DownloadRecord> {
  return (await task.run(new AbortController().signal)) as DownloadRecord;
}

export async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

export { readFile };

