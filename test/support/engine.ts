import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import {
  AbortError,
  DownloadTask,
  newDownloadRecord,
  type DownloadOptions,
  type DownloadRecord,
} from '../../src/core';
import { waitFor } from './cli';
import { createEngineParts, type HarnessParts } from './engine-parts';

/** Fast retries so fault tests take milliseconds, not the production backoff. */
export const FAST_RETRY = { retries: 4, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 5_000 };

/** The same fast backoff with another budget: `fastRetry(0)` fails at the first error. */
export const fastRetry = (retries: number): typeof FAST_RETRY => ({ ...FAST_RETRY, retries });

/** The download engine wired to its parts; each task gets a fresh id and the harness folder. */
export interface Harness extends HarnessParts {
  task(url: string, options?: Partial<DownloadOptions> & { record?: Partial<DownloadRecord> }): DownloadTask;
}

export async function createHarness(): Promise<Harness> {
  const { logger, ...parts } = await createEngineParts('rt-dl-', 10_000);
  let counter = 0;
  return {
    ...parts,
    task(url, options = {}) {
      const { record: overrides, ...rest } = options;
      const record = { ...newDownloadRecord({ id: `t${++counter}`, url, targetDir: parts.dir, now: Date.now() }), ...overrides };
      return new DownloadTask(record, { http: parts.http, store: parts.store, logger, retry: FAST_RETRY, stallTimeoutMs: 2_000, ...rest });
    },
  };
}

export async function runToEnd(task: DownloadTask): Promise<DownloadRecord> {
  return (await task.run(new AbortController().signal)) as DownloadRecord;
}

/**
 * Runs `task` until `ready()` holds, then pauses it as the user would; resolves once it has
 * stopped with that pause (its record is saved by then).
 */
export async function pauseWhen(task: { run(signal: AbortSignal): Promise<unknown> }, ready: () => boolean | Promise<boolean>): Promise<void> {
  const controller = new AbortController();
  const running = task.run(controller.signal);
  await waitFor(ready);
  controller.abort(new AbortError('pause'));
  await assert.rejects(running, (error: unknown) => error instanceof AbortError && error.reason === 'pause');
}

export async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

export { readFile };

