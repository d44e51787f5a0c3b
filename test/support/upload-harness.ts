/** Shared set-up for upload tests: a temp folder, files with known content, the engine wired up. */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import {
  AbortError,
  UploadTask,
  createUploadRecord,
  type AbortReason,
  type UploadOptions,
  type UploadProtocolChoice,
  type UploadRecord,
} from '../../src/core';
import { FAST_RETRY } from './engine';
import { createEngineParts, type HarnessParts } from './engine-parts';
import { sha256 } from './fault-server';

export { sha256 };

export interface UploadHarness extends HarnessParts {
  /** Writes `size` random bytes to `name`; returns the path and the content's sha256. */
  file(name: string, size: number): Promise<{ file: string; data: Buffer; sha256: string }>;
  task(
    file: string,
    url: string,
    options?: Partial<UploadOptions> & { protocol?: UploadProtocolChoice; chunkSize?: number; record?: UploadRecord },
  ): Promise<UploadTask>;
}


export async function createUploadHarness(): Promise<UploadHarness> {
  const { logger, ...parts } = await createEngineParts('rt-up-', 20_000);
  let counter = 0;
  return {
    ...parts,
    async file(name, size) {
      const data = randomBytes(size);
      const file = path.join(parts.dir, name);
      await writeFile(file, data);
      return { file, data, sha256: sha256(data) };
    },
    async task(file, url, options = {}) {
      const { protocol, chunkSize, record: given, ...rest } = options;
      const record = given ?? (await createUploadRecord({ id: `u${++counter}`, url, file, protocol, chunkSize, now: Date.now() }));
      return new UploadTask(record, { http: parts.http, store: parts.store, logger, retry: FAST_RETRY, stallTimeoutMs: 3_000, ...rest });
    },
  };
}

export const run = (task: UploadTask, signal = new AbortController().signal): Promise<UploadRecord> => task.run(signal);

/**
 * Runs `task` until its record says `offset` bytes are on the server, then stops it as the user
 * would (`pause` keeps the upload, `cancel` ends it); resolves once it has stopped that way.
 */
export async function stopAt(task: UploadTask, offset: number, reason: AbortReason): Promise<void> {
  const controller = new AbortController();
  task.onRecord((record) => {
    if (record.offset >= offset) controller.abort(new AbortError(reason));
  });
  await assert.rejects(run(task, controller.signal), (error: unknown) => error instanceof AbortError && error.reason === reason);
}
