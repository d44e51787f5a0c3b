import { AbortError, TransferError, type DisagreeingChecksum, type TransferErrorCode } from '../errors';
import type { Exchange } from '../http/exchange-log';
import type { NetworkSettings } from '../http/stack';
import type { DownloadRecord } from '../state/record';
import type { RetryPolicy } from '../transfer/retry';
import type { TransferProgress } from '../transfer/runner';

/**
 * Messages between the thread that owns a download's record (the extension host's main thread)
 * and the worker thread that moves its bytes. Only plain data crosses: functions such as the
 * header provider or the lease decoration become request/reply pairs.
 */
export interface WorkerDownloadSettings {
  retry?: RetryPolicy;
  stallTimeoutMs?: number;
  persistIntervalMs?: number;
  progressIntervalMs?: number;
  minSplitBytes?: number;
  /** The very value the owning thread built its own HTTP stack from. */
  network?: NetworkSettings;
  checksumDiscovery?: boolean;
  /** Per-host connection limits known so far (HostConnectionLimits.toJSON()). */
  connectionLimits?: Record<string, number>;
  /** Whether a speed limit applies at the start (later changes arrive as `bandwidth` messages). */
  limited?: boolean;
}

export type ToWorker =
  | { type: 'start'; record: DownloadRecord; settings: WorkerDownloadSettings }
  | { type: 'abort'; reason: string }
  | { type: 'checkpoint' }
  | { type: 'bandwidth'; limited: boolean }
  | { type: 'reply'; id: number; value?: unknown; error?: SerializedError };

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export type FromWorker =
  | { type: 'put'; id: number; record: DownloadRecord }
  | { type: 'headers'; id: number; url: string }
  /** Speed limits live with the owner (one global bucket for every worker): may these bytes pass? */
  | { type: 'take'; id: number; bytes: number }
  | { type: 'guard'; id: number }
  | { type: 'progress'; progress: TransferProgress }
  /** One request and its answer, for the transfer's request log (the details view). */
  | { type: 'exchange'; exchange: Exchange }
  | { type: 'log'; level: LogLevel; message: string }
  | { type: 'limits'; limits: Record<string, number> }
  | { type: 'done'; record: DownloadRecord }
  | { type: 'failed'; record: DownloadRecord; error: SerializedError };

export interface SerializedError {
  code?: TransferErrorCode;
  message: string;
  status?: number;
  retryAfter?: string;
  abortReason?: string;
  checksum?: DisagreeingChecksum;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof AbortError) return { code: error.code, message: error.message, abortReason: error.reason };
  if (error instanceof TransferError) return { code: error.code, message: error.message, status: error.status, retryAfter: error.retryAfter, checksum: error.checksum };
  return { message: error instanceof Error ? error.message : String(error) };
}

export function deserializeError(error: SerializedError): Error {
  if (error.abortReason !== undefined) return new AbortError(error.abortReason);
  if (error.code) return new TransferError(error.code, error.message, { status: error.status, retryAfter: error.retryAfter, checksum: error.checksum });
  return new Error(error.message);
}
