import * as assert from 'node:assert/strict';
import { AbortError, TRANSFER_ERROR_CODES, TransferError, type TransferErrorCode } from '../../src/core/errors';
import {
  DEFAULT_RETRY_POLICY,
  RetryBudget,
  isRetryable,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
  type RetryPolicy,
} from '../../src/core/transfer/retry';

describe('isRetryableStatus', () => {
  const cases: Array<[number, boolean]> = [
    [408, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [507, true],
    [599, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [405, false],
    [409, false],
    [410, false],
    [412, false],
    [416, false],
    [501, false],
    [505, false],
    [200, false],
    [206, false],
    [304, false],
    [600, false],
  ];
  for (const [status, expected] of cases) {
    it(`${status} → ${expected}`, () => {
      assert.equal(isRetryableStatus(status), expected);
    });
  }
});

describe('isRetryable', () => {
  const retryableCodes: ReadonlySet<TransferErrorCode> = new Set<TransferErrorCode>([
    'ERR_NETWORK',
    'ERR_CONNECT_TIMEOUT',
    'ERR_RESPONSE_TIMEOUT',
    'ERR_STALLED',
    'ERR_SHORT_BODY',
    'ERR_NO_PROGRESS',
  ]);

  for (const code of TRANSFER_ERROR_CODES) {
    if (code === 'ERR_HTTP_STATUS') continue;
    const expected = retryableCodes.has(code);
    it(`${code} → ${expected}`, () => {
      assert.equal(isRetryable(new TransferError(code, 'x')), expected);
    });
  }

  const statusCases: Array<{ status: number | undefined; expected: boolean }> = [
    { status: 503, expected: true },
    { status: 429, expected: true },
    { status: 408, expected: true },
    { status: 500, expected: true },
    { status: 404, expected: false },
    { status: 403, expected: false },
    { status: 416, expected: false },
    { status: 501, expected: false },
    { status: undefined, expected: false },
  ];
  for (const { status, expected } of statusCases) {
    it(`ERR_HTTP_STATUS with status ${String(status)} → ${expected}`, () => {
      assert.equal(isRetryable(new TransferError('ERR_HTTP_STATUS', 'x', { status })), expected);
    });
  }

  it('an abort is not retried', () => {
    assert.equal(isRetryable(new AbortError('pause')), false);
    assert.equal(isRetryable(new AbortError('stall')), false);
  });

  it('anything that is not a TransferError is not retried', () => {
    const plain = Object.assign(new Error('ECONNRESET'), { code: 'ERR_NETWORK' });
    for (const value of [plain, 'ERR_NETWORK', { code: 'ERR_NETWORK' }, undefined, null, 503]) {
      assert.equal(isRetryable(value), false, String(value));
    }
  });
});

describe('parseRetryAfter', () => {
  const NOW = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  const cases: Array<{ value: string | null | undefined; expected: number | undefined }> = [
    // delay-seconds
    { value: '0', expected: 0 },
    { value: '1', expected: 1_000 },
    { value: '120', expected: 120_000 },
    { value: ' 30 ', expected: 30_000 },
    { value: '007', expected: 7_000 },
    // HTTP-date, relative to NOW
    { value: 'Wed, 21 Oct 2015 07:28:00 GMT', expected: 0 },
    { value: 'Wed, 21 Oct 2015 07:28:30 GMT', expected: 30_000 },
    { value: 'Wed, 21 Oct 2015 08:28:00 GMT', expected: 3_600_000 },
    { value: 'Wednesday, 21-Oct-15 07:29:00 GMT', expected: 60_000 },
    // Past dates: retry now
    { value: 'Wed, 21 Oct 2015 07:27:59 GMT', expected: 0 },
    { value: 'Thu, 01 Jan 1970 00:00:00 GMT', expected: 0 },
    // Garbage
    { value: 'soon', expected: undefined },
    { value: '120s', expected: undefined },
    { value: '1e3', expected: undefined },
    { value: '0x10', expected: undefined },
    { value: '-5', expected: undefined },
    { value: '1.5', expected: undefined },
    { value: 'later 2030', expected: undefined },
    { value: '', expected: undefined },
    { value: '   ', expected: undefined },
    { value: null, expected: undefined },
    { value: undefined, expected: undefined },
  ];
  for (const { value, expected } of cases) {
    it(`${JSON.stringify(value)} → ${String(expected)}`, () => {
      assert.equal(parseRetryAfter(value, NOW), expected);
    });
  }

  it('an HTTP-date is measured from the given now, not the system clock', () => {
    const date = 'Wed, 21 Oct 2015 07:28:10 GMT';
    assert.equal(parseRetryAfter(date, NOW), 10_000);
    assert.equal(parseRetryAfter(date, NOW + 4_000), 6_000);
    assert.equal(parseRetryAfter(date, NOW + 60_000), 0);
  });
});

describe('retryDelay', () => {
  const policy: RetryPolicy = { retries: 5, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 };
  const fixed = (value: number) => () => value;

  // Equal jitter: exponential/2 + random * exponential/2.
  const cases: Array<{ attempt: number; random: number; expected: number }> = [
    { attempt: 1, random: 0, expected: 50 },
    { attempt: 1, random: 0.5, expected: 75 },
    { attempt: 1, random: 1, expected: 100 },
    { attempt: 2, random: 0, expected: 100 },
    { attempt: 2, random: 0.5, expected: 150 },
    { attempt: 2, random: 1, expected: 200 },
    { attempt: 3, random: 0, expected: 200 },
    { attempt: 3, random: 0.5, expected: 300 },
    { attempt: 3, random: 1, expected: 400 },
    { attempt: 4, random: 1, expected: 800 },
    // 100 * 2^4 = 1600 is capped at maxDelayMs = 1000
    { attempt: 5, random: 0, expected: 500 },
    { attempt: 5, random: 0.5, expected: 750 },
    { attempt: 5, random: 1, expected: 1_000 },
    { attempt: 50, random: 1, expected: 1_000 },
    { attempt: 5_000, random: 1, expected: 1_000 },
    { attempt: 5_000, random: 0, expected: 500 },
  ];
  for (const { attempt, random, expected } of cases) {
    it(`attempt ${attempt}, random ${random} → ${expected} ms`, () => {
      assert.equal(retryDelay(attempt, policy, fixed(random)), expected);
    });
  }

  it('grows exponentially until the cap and never exceeds maxDelayMs', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => retryDelay(attempt, policy, fixed(1)));
    assert.deepEqual(delays, [100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000]);
    for (const random of [0, 0.25, 0.5, 0.75, 1]) {
      for (let attempt = 1; attempt <= 40; attempt++) {
        const delay = retryDelay(attempt, policy, fixed(random));
        assert.ok(delay <= policy.maxDelayMs, `attempt ${attempt}: ${delay}`);
        assert.ok(delay >= Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)) / 2, `attempt ${attempt}: ${delay}`);
      }
    }
  });

  it('uses the default policy numbers', () => {
    assert.equal(retryDelay(1, DEFAULT_RETRY_POLICY, fixed(1)), DEFAULT_RETRY_POLICY.baseDelayMs);
    assert.equal(retryDelay(100, DEFAULT_RETRY_POLICY, fixed(1)), DEFAULT_RETRY_POLICY.maxDelayMs);
  });

  const retryAfterCases: Array<{ title: string; attempt: number; random: number; retryAfterMs: number; expected: number }> = [
    { title: 'Retry-After longer than the backoff wins', attempt: 1, random: 1, retryAfterMs: 3_000, expected: 3_000 },
    { title: 'Retry-After longer than maxDelayMs still wins', attempt: 10, random: 1, retryAfterMs: 4_000, expected: 4_000 },
    { title: 'Retry-After is capped at maxRetryAfterMs', attempt: 1, random: 1, retryAfterMs: 60_000, expected: 5_000 },
    { title: 'Retry-After exactly maxRetryAfterMs', attempt: 1, random: 0, retryAfterMs: 5_000, expected: 5_000 },
    { title: 'shorter Retry-After loses to the backoff', attempt: 3, random: 1, retryAfterMs: 10, expected: 400 },
    { title: 'Retry-After 0 loses to the backoff', attempt: 1, random: 0, retryAfterMs: 0, expected: 50 },
  ];
  for (const { title, attempt, random, retryAfterMs, expected } of retryAfterCases) {
    it(`${title}: ${expected} ms`, () => {
      assert.equal(retryDelay(attempt, policy, fixed(random), retryAfterMs), expected);
    });
  }

  it('calls random once per delay', () => {
    let calls = 0;
    retryDelay(2, policy, () => {
      calls += 1;
      return 0.5;
    });
    assert.equal(calls, 1);
  });
});

describe('RetryBudget', () => {
  const policy: RetryPolicy = { retries: 3, baseDelayMs: 1, maxDelayMs: 10, maxRetryAfterMs: 100 };

  it('hands out attempts 1..retries, then runs out', () => {
    const budget = new RetryBudget(policy);
    assert.equal(budget.attempts, 0);
    assert.deepEqual([budget.nextAttempt(), budget.nextAttempt(), budget.nextAttempt()], [1, 2, 3]);
    assert.equal(budget.nextAttempt(), undefined);
    assert.equal(budget.nextAttempt(), undefined, 'stays exhausted');
  });

  it('retries: 0 gives up on the first failure', () => {
    const budget = new RetryBudget({ ...policy, retries: 0 });
    assert.equal(budget.nextAttempt(), undefined);
  });

  it('resets the counter when bytes beyond the furthest point are saved', () => {
    const budget = new RetryBudget(policy);
    assert.equal(budget.nextAttempt(), 1);
    assert.equal(budget.nextAttempt(), 2);
    assert.equal(budget.noteSaved(100), true);
    assert.equal(budget.attempts, 0);
    assert.equal(budget.nextAttempt(), 1);
    assert.equal(budget.noteSaved(101), true);
    assert.equal(budget.nextAttempt(), 1);
  });

  it('does not reset when the same offset is reached again', () => {
    const budget = new RetryBudget(policy);
    assert.equal(budget.noteSaved(1_000), true);
    assert.equal(budget.nextAttempt(), 1);
    assert.equal(budget.noteSaved(1_000), false);
    assert.equal(budget.attempts, 1);
    assert.equal(budget.nextAttempt(), 2);
  });

  it('does not reset for bytes fetched again below the furthest point (overlap check, restart)', () => {
    const budget = new RetryBudget(policy);
    budget.noteSaved(1_000);
    budget.nextAttempt();
    budget.nextAttempt();
    for (const saved of [0, 10, 500, 999, 1_000]) {
      assert.equal(budget.noteSaved(saved), false, `noteSaved(${saved})`);
      assert.equal(budget.attempts, 2, `after noteSaved(${saved})`);
    }
    assert.equal(budget.nextAttempt(), 3);
    assert.equal(budget.nextAttempt(), undefined);
  });

  it('starts from the furthest point given to the constructor', () => {
    const budget = new RetryBudget(policy, 5_000);
    budget.nextAttempt();
    assert.equal(budget.noteSaved(5_000), false);
    assert.equal(budget.noteSaved(4_000), false);
    assert.equal(budget.attempts, 1);
    assert.equal(budget.noteSaved(5_001), true);
    assert.equal(budget.attempts, 0);
  });

  it('a server that always cuts at the same byte exhausts the budget after `retries` failures', () => {
    const CUT = 65_536;
    const budget = new RetryBudget(policy);
    let failures = 0;
    let gaveUp = false;
    // Each round: resume (re-fetching an overlap below CUT), save bytes up to CUT, then the
    // connection drops at CUT again.
    for (let round = 0; round < 100 && !gaveUp; round++) {
      budget.noteSaved(CUT - 4_096);
      budget.noteSaved(CUT);
      failures += 1;
      gaveUp = budget.nextAttempt() === undefined;
    }
    assert.ok(gaveUp, 'the budget never ran out');
    // The first round made real progress (0 → CUT) before failing; every later one did not.
    assert.equal(failures, policy.retries + 1);
  });

  it('a transfer that keeps advancing is never cut off', () => {
    const budget = new RetryBudget(policy);
    for (let round = 1; round <= 50; round++) {
      budget.noteSaved(round * 1_000);
      assert.equal(budget.nextAttempt(), 1, `round ${round}`);
    }
  });
});
