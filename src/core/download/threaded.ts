import { Worker } from 'node:worker_threads';
import { AbortError, TransferError, abortReasonOf } from '../errors';
import { Emitter, type Event } from '../events';
import type { Exchange } from '../http/exchange-log';
import type { HostConnectionLimits } from './host-limits';
import type { BandwidthGate } from '../bandwidth/limits';
import { silentLogger, type Logger } from '../logger';
import type { DownloadRecord } from '../state/record';
import type { TransferProgress, TransferRunner } from '../transfer/runner';
import type { TransferStore } from '../state/store';
import { deserializeError, serializeError, type FromWorker, type ToWorker, type WorkerDownloadSettings } from './worker-protocol';
import { deletePartialData } from './part-file';

export interface ThreadedDownloadOptions {
  /** Path of the bundled worker entry (dist/download-worker.js). */
  workerPath: string;
  store: TransferStore;
  logger?: Logger;
  /** Extra request headers (credentials), asked for on every attempt, never persisted. */
  headers?: (url: string) => Promise<Record<string, string>> | Record<string, string>;
  /** Asked before each write batch: throws when this transfer's claim is lost. */
  guard?: () => Promise<void>;
  connectionLimits?: HostConnectionLimits;
  /** Speed limits; the worker asks for every chunk while one applies. */
  bandwidth?: BandwidthGate;
  settings?: WorkerDownloadSettings;
  /** Each request the worker makes and its answer (for the transfer's request log). */
  onExchange?: (exchange: Exchange) => void;
}

/**
 * Runs a DownloadTask in a worker thread. The caller's thread keeps the record (saves go through
 * its store, with its lease), answers header requests and gets throttled progress: the byte path
 * (network reads, disk writes, hashing) never runs on its event loop. In the editor that thread is
 * the extension host's, shared by every extension.
 */
export class ThreadedDownloadTask implements TransferRunner {
  private readonly progressEmitter = new Emitter<TransferProgress>();
  private readonly recordEmitter = new Emitter<DownloadRecord>();
  readonly onProgress: Event<TransferProgress> = this.progressEmitter.event;
  readonly onRecord: Event<DownloadRecord> = this.recordEmitter.event;
  private rec: DownloadRecord;
  private worker?: Worker;
  private readonly logger: Logger;

  constructor(record: DownloadRecord, private readonly options: ThreadedDownloadOptions) {
    this.rec = structuredClone(record);
    this.logger = options.logger ?? silentLogger;
  }

  get record(): DownloadRecord {
    return this.rec;
  }

  /** Deletes the partial data of a download that is not running (no worker needed for that). */
  async discard(): Promise<void> {
    if (this.rec.target) await deletePartialData(this.rec.target);
  }

  async checkpoint(): Promise<void> {
    if (this.worker) this.send({ type: 'checkpoint' });
    else await this.save(this.rec);
  }

  private send(message: ToWorker): void {
    this.worker?.postMessage(message);
  }

  private async save(record: DownloadRecord): Promise<DownloadRecord> {
    await this.options.store.put(record);
    this.rec = record;
    this.recordEmitter.fire(record);
    return record;
  }

  run(signal: AbortSignal): Promise<DownloadRecord> {
    if (signal.aborted) return Promise.reject(new AbortError(abortReasonOf(signal)));
    const worker = new Worker(this.options.workerPath);
    this.worker = worker;
    const bandwidth = this.options.bandwidth;
    const settings: WorkerDownloadSettings = {
      ...this.options.settings,
      connectionLimits: this.options.connectionLimits?.toJSON(),
      limited: bandwidth?.limited ?? false,
    };
    // A limit set or lifted while the download runs reaches the worker at once.
    const bandwidthChange = bandwidth?.onDidChange(() => this.send({ type: 'bandwidth', limited: bandwidth.limited }));
    return new Promise<DownloadRecord>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        bandwidthChange?.dispose();
        this.worker = undefined;
        void worker.terminate();
        outcome();
      };
      const onAbort = () => this.send({ type: 'abort', reason: abortReasonOf(signal) });
      signal.addEventListener('abort', onAbort, { once: true });

      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'put':
            this.save(message.record).then(
              () => this.send({ type: 'reply', id: message.id }),
              (error: unknown) => this.send({ type: 'reply', id: message.id, error: serializeError(error) }),
            );
            break;
          case 'guard':
            (this.options.guard?.() ?? Promise.resolve()).then(
              () => this.send({ type: 'reply', id: message.id }),
              (error: unknown) => this.send({ type: 'reply', id: message.id, error: serializeError(error) }),
            );
            break;
          case 'headers':
            Promise.resolve(this.options.headers?.(message.url) ?? {}).then(
              (value) => this.send({ type: 'reply', id: message.id, value }),
              () => this.send({ type: 'reply', id: message.id, value: {} }),
            );
            break;
          case 'take':
            (bandwidth?.take(message.bytes, signal) ?? Promise.resolve()).then(
              () => this.send({ type: 'reply', id: message.id }),
              (error: unknown) => this.send({ type: 'reply', id: message.id, error: serializeError(error) }),
            );
            break;
          case 'progress':
            this.progressEmitter.fire(message.progress);
            break;
          case 'exchange':
            this.options.onExchange?.(message.exchange);
            break;
          case 'log':
            this.logger[message.level](message.message);
            break;
          case 'limits':
            this.options.connectionLimits?.merge(message.limits);
            break;
          case 'done':
            // Its last save (state completed) was answered before the worker said so.
            finish(() => resolve(this.rec));
            break;
          case 'failed':
            finish(() => reject(deserializeError(message.error)));
            break;
        }
      });
      const crashed = (why: string) =>
        finish(() => {
          const error = new TransferError('ERR_INTERNAL', why);
          this.logger.error(`[${this.rec.id}] ${why}`);
          this.save({ ...this.rec, state: 'failed', lastError: error.toJSON() }).then(
            () => reject(error),
            () => reject(error),
          );
        });
      worker.once('error', (error) => crashed(`download worker failed: ${error.message}`));
      worker.once('exit', (code) => crashed(`download worker exited with code ${code}`));
      this.send({ type: 'start', record: this.rec, settings });
    });
  }
}
