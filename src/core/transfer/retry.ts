import { TransferError, type TransferErrorCode } from '../errors';
import { parseHttpDate } from '../http/range';

/**
 * Retry decisions are pure functions of the error, the attempt number and the clock, so the
 * whole policy is covered by table-driven tests.
 */
export interface RetryPolicy {
  /** Attempts after the first failure before giving up (counter resets on real progress). */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After we are willing to wait; longer ones fail the transfer instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 10 * 60_000,
};

const RETRYABLE_CODES: ReadonlySet<TransferErrorCode> = new Set<TransferErrorCode>([
  'ERR_NETWORK',
  'ERR_CONNECT_TIMEOUT',
  'ERR_RESPONSE_TIMEOUT',
  'ERR_STALLED',
  'ERR_SHORT_BODY',
  // A server that took a chunk without keeping it may keep it next time; the budget bounds the tries.
  'ERR_NO_PROGRESS',
]);

/** Statuses worth another try: timeouts, rate limits and server-side failures (RFC 9110 §15). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

export function isRetryable(error: unknown): boolean {
  if (!(error instanceof TransferError)) return false;
  if (error.code === 'ERR_HTTP_STATUS') return error.status !== undefined && isRetryableStatus(error.status);
  return RETRYABLE_CODES.has(error.code);
}

/** Retry-After as milliseconds from `now`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = parseHttpDate(trimmed);
  return date === undefined ? undefined : Math.max(0, date - now);
}

/**
 * Delay before retry number `attempt` (1-based): exponential backoff with "equal jitter" (half
 * fixed, half random) so that many clients do not retry in lockstep. A server's Retry-After wins
 * when it asks for longer.
 */
export function retryDelay(attempt: number, policy: RetryPolicy, random: () => number, retryAfterMs?: number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exponential / 2 + (random() * exponential) / 2;
  if (retryAfterMs !== undefined) return Math.max(Math.min(retryAfterMs, policy.maxRetryAfterMs), jittered);
  return jittered;
}

/**
 * Counts failed attempts. The counter resets only when bytes beyond the furthest point ever saved
 * arrived: bytes fetched again (after an overlap check or a restart) are not progress, so a server
 * that always cuts at the same offset cannot keep the client looping forever.
 */
export class RetryBudget {
  private failures = 0;
  private furthest: number;

  constructor(private readonly policy: RetryPolicy, furthestSaved = 0) {
    this.furthest = furthestSaved;
  }

  get attempts(): number {
    return this.failures;
  }

  /** Call with the number of bytes safely saved; returns true when that is new ground. */
  noteSaved(savedBytes: number): boolean {
    if (savedBytes > this.furthest) {
      this.furthest = savedBytes;
      this.failures = 0;
      return true;
    }
    return false;
  }

  /** Records a failure; returns the attempt number to wait for, or undefined when exhausted. */
  nextAttempt(): number | undefined {
    this.failures += 1;
    return this.failures <= this.policy.retries ? this.failures : undefined;
  }
}
