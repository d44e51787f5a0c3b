import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryTransferStore, NodeFetchHttpClient, type Logger } from '../../src/core';
import { recordingLogger } from './logs';

/** What the download and the upload harness are both built from. */
export interface EngineParts {
  /** A fresh temporary folder, removed by `cleanup()`. */
  dir: string;
  store: MemoryTransferStore;
  /** A real HTTP client with short timeouts, disposed by `cleanup()`. */
  http: NodeFetchHttpClient;
  /** Every line the engine logged, to assert on. */
  logs: string[];
  logger: Logger;
  cleanup(): Promise<void>;
}

/** What a harness shows its tests: the parts but the logger, which only its tasks write to. */
export type HarnessParts = Omit<EngineParts, 'logger'>;

export async function createEngineParts(dirPrefix: string, responseTimeoutMs: number): Promise<EngineParts> {
  const dir = await mkdtemp(path.join(os.tmpdir(), dirPrefix));
  const http = new NodeFetchHttpClient({ connectTimeoutMs: 5_000, responseTimeoutMs });
  const logs: string[] = [];
  return {
    dir,
    store: new MemoryTransferStore(),
    http,
    logs,
    logger: recordingLogger(logs),
    async cleanup() {
      http.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
