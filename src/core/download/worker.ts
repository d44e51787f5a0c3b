/**
 * Worker-thread entry (bundled to dist/download-worker.js): runs one DownloadTask off the
 * caller's event loop. Network reads, disk writes and hashing all happen here; the owner of the
 * record sees progress, saves and the outcome as messages.
 */
import { parentPort } from 'node:worker_threads';
import { AbortError } from '../errors';
import { Emitter } from '../events';
import type { BandwidthGate } from '../bandwidth/limits';
import { DownloadTask } from './task';
import { HostConnectionLimits } from './host-limits';
import type { Logger } from '../logger';
import { recordingHttpClient } from '../http/exchange-log';
import { createHttpStack } from '../http/stack';
import type { DownloadRecord, TransferRecord } from '../state/record';
import type { TransferStore } from '../state/store';
import { deserializeError, serializeError, type FromWorker, type ToWorker } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('download-worker must run in a worker thread');

const post = (message: FromWorker) => port.postMessage(message);
let nextId = 1;
const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

/** Asks the owning thread and waits for its reply. */
type Request = { type: 'put'; record: DownloadRecord } | { type: 'headers'; url: string } | { type: 'take'; bytes: number } | { type: 'guard' };

function ask<T>(message: Request): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    post({ ...message, id } as FromWorker);
  });
}

/** Saves go to the owning thread, whose store checks the claim and stamps the lease. */
const remoteStore: TransferStore = {
  list: async () => [],
  get: async () => undefined,
  put: async (record: TransferRecord) => {
    await ask({ type: 'put', record: record as DownloadRecord });
  },
  delete: async () => undefined,
};

const logger: Logger = {
  trace: (message) => post({ type: 'log', level: 'trace', message }),
  debug: (message) => post({ type: 'log', level: 'debug', message }),
  info: (message) => post({ type: 'log', level: 'info', message }),
  warn: (message) => post({ type: 'log', level: 'warn', message }),
  error: (message) => post({ type: 'log', level: 'error', message }),
};

/**
 * The buckets live with the owner, shared by every transfer's worker; this side only knows
 * whether a limit applies, so an unlimited download never sends a message per chunk.
 */
const bandwidthChanged = new Emitter<void>();
const bandwidth: BandwidthGate = {
  limited: false,
  onDidChange: bandwidthChanged.event,
  take: (bytes, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      ask<void>({ type: 'take', bytes }).then(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        (error: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    }),
};

function setLimited(limited: boolean): void {
  (bandwidth as { limited: boolean }).limited = limited;
  bandwidthChanged.fire();
}

/**
 * The claim lives on the owning thread. Asking it costs a message round trip, so a write relies on
 * the last answer for a short while (wall-clock time: after a sleep, the first write asks again).
 */
const GUARD_EVERY_MS = 250;
let lastGuard = 0;
async function askClaimGuard(): Promise<void> {
  const age = Date.now() - lastGuard;
  if (age >= 0 && age < GUARD_EVERY_MS) return;
  await ask<void>({ type: 'guard' });
  lastGuard = Date.now();
}

const controller = new AbortController();
let task: DownloadTask | undefined;

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'reply': {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      // Coded errors keep their code: a lost claim must stop the download, not be retried.
      if (message.error !== undefined) waiter?.reject(deserializeError(message.error));
      else waiter?.resolve(message.value);
      break;
    }
    case 'abort':
      controller.abort(new AbortError(message.reason));
      break;
    case 'checkpoint':
      void task?.checkpoint();
      break;
    case 'bandwidth':
      setLimited(message.limited);
      break;
    case 'start':
      // Whatever goes wrong before the task runs is still an answer, never an unhandled rejection.
      start(message.record, message.settings).catch((error: unknown) => post({ type: 'failed', record: message.record, error: serializeError(error) }));
      break;
  }
});

async function start(record: DownloadRecord, settings: Extract<ToWorker, { type: 'start' }>['settings']): Promise<void> {
  // Never throws for a bad setting: the owning thread reported it; requests fail with its code.
  const network = createHttpStack(settings.network ?? { proxy: { strictSSL: true, noProxy: [] } });
  // Every exchange goes to the owner's request log; plain data, a few per request.
  const http = recordingHttpClient(network.http, (exchange) => post({ type: 'exchange', exchange }));
  setLimited(settings.limited ?? false);
  const limits = HostConnectionLimits.fromJSON(settings.connectionLimits, (all) => post({ type: 'limits', limits: all }));
  task = new DownloadTask(record, {
    http,
    store: remoteStore,
    logger,
    retry: settings.retry,
    stallTimeoutMs: settings.stallTimeoutMs,
    persistIntervalMs: settings.persistIntervalMs,
    progressIntervalMs: settings.progressIntervalMs,
    minSplitBytes: settings.minSplitBytes,
    checksumDiscovery: settings.checksumDiscovery,
    connectionLimits: limits,
    bandwidth,
    headers: (url) => ask<Record<string, string>>({ type: 'headers', url }),
    guard: askClaimGuard,
  });
  task.onProgress((progress) => post({ type: 'progress', progress }));
  try {
    const done = await task.run(controller.signal);
    post({ type: 'done', record: done });
  } catch (error) {
    post({ type: 'failed', record: task.record, error: serializeError(error) });
  } finally {
    network.dispose();
  }
}
