import * as assert from 'node:assert/strict';
import { BandwidthLimits, type BandwidthGate } from '../../src/core/bandwidth/limits';
import { formatRate, parseRate } from '../../src/core/bandwidth/rate';
import { TokenBucket } from '../../src/core/bandwidth/token-bucket';
import { FakeClock, settle } from '../support/fake-clock';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A connection that reads `chunk`-byte chunks as fast as the gate lets it, counting what passed. */
function connection(take: (bytes: number, signal: AbortSignal) => Promise<void>, chunk: number, log: { at: number; bytes: number }[], clock: FakeClock) {
  const controller = new AbortController();
  void (async () => {
    for (;;) {
      try {
        await take(chunk, controller.signal);
      } catch {
        return;
      }
      log.push({ at: clock.now(), bytes: chunk });
    }
  })();
  return { stop: () => controller.abort(new Error('stopped')) };
}

const bytesBetween = (log: { at: number; bytes: number }[], from: number, to: number) =>
  log.filter((entry) => entry.at > from && entry.at <= to).reduce((sum, entry) => sum + entry.bytes, 0);

function assertWithin(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= expected * tolerance, `${what}: ${actual} is not within ±${tolerance * 100}% of ${expected}`);
}

describe('TokenBucket', () => {
  it('holds one connection to the limit over every 5 s window after the first second', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(100 * KiB, clock);
    const log: { at: number; bytes: number }[] = [];
    const c = connection((n, s) => bucket.take(n, s), 16 * KiB, log, clock);
    await clock.advance(12_000, 5);
    c.stop();
    for (let from = 1000; from <= 7000; from += 500) assertWithin(bytesBetween(log, from, from + 5000), 500 * KiB, 0.1, `window from ${from} ms`);
  });

  it('shares the limit evenly between eight connections and holds the total', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(1 * MiB, clock);
    const logs = Array.from({ length: 8 }, () => [] as { at: number; bytes: number }[]);
    const all: { at: number; bytes: number }[] = [];
    const cs = logs.map((log, i) =>
      connection(async (n, s) => {
        await bucket.take(n, s, `c${i}`);
        all.push({ at: clock.now(), bytes: n });
      }, 64 * KiB, log, clock),
    );
    await clock.advance(7_000, 5);
    cs.forEach((c) => c.stop());
    assertWithin(bytesBetween(all, 1000, 6000), 5 * MiB, 0.1, 'total');
    for (const log of logs) assertWithin(bytesBetween(log, 1000, 6000), (5 * MiB) / 8, 0.1, 'one connection');
  });

  it('applies a lower limit within a second, also to takes already waiting', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(200 * KiB, clock);
    const log: { at: number; bytes: number }[] = [];
    const c = connection((n, s) => bucket.take(n, s), 8 * KiB, log, clock);
    await clock.advance(3_000, 5);
    bucket.setLimit(50 * KiB);
    await clock.advance(7_000, 5);
    c.stop();
    assertWithin(bytesBetween(log, 4000, 9000), 250 * KiB, 0.1, 'after the change');
  });

  it('lets everything waiting pass at once when the limit is lifted', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(1 * KiB, clock);
    const passed: number[] = [];
    for (let i = 0; i < 4; i++) void bucket.take(64 * KiB).then(() => passed.push(i));
    await settle();
    assert.equal(passed.length, 1, 'only the first chunk passes within the burst');
    bucket.setLimit(0);
    await clock.advance(1);
    assert.deepEqual(passed, [0, 1, 2, 3]);
  });

  it('an aborted take rejects and does not hold up the others', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10 * KiB, clock);
    await bucket.take(10 * KiB); // empties the bucket into debt
    const controller = new AbortController();
    const aborted = bucket.take(10 * KiB, controller.signal, 'a');
    let other = false;
    void bucket.take(1, undefined, 'b').then(() => (other = true));
    controller.abort(new Error('paused'));
    await assert.rejects(aborted, /paused/);
    await clock.advance(1_100, 10);
    assert.equal(other, true);
  });
});

describe('BandwidthLimits', () => {
  const run = (gate: BandwidthGate, chunk: number, log: { at: number; bytes: number }[], clock: FakeClock) => connection((n, s) => gate.take(n, s), chunk, log, clock);

  it('shares the global limit fairly between transfers, not between connections', async () => {
    const clock = new FakeClock();
    const limits = new BandwidthLimits(1 * MiB, clock);
    const many: { at: number; bytes: number }[] = [];
    const one: { at: number; bytes: number }[] = [];
    const cs = [...Array.from({ length: 8 }, () => run(limits.gateFor('eight'), 64 * KiB, many, clock)), run(limits.gateFor('single'), 64 * KiB, one, clock)];
    await clock.advance(7_000, 5);
    cs.forEach((c) => c.stop());
    assertWithin(bytesBetween(many, 1000, 6000), 2.5 * MiB, 0.1, 'transfer with eight connections');
    assertWithin(bytesBetween(one, 1000, 6000), 2.5 * MiB, 0.1, 'transfer with one connection');
  });

  it('a transfer limit below its share leaves the rest of the global limit to the others', async () => {
    const clock = new FakeClock();
    const limits = new BandwidthLimits(1 * MiB, clock);
    limits.setTransferLimit('slow', 256 * KiB);
    const slow: { at: number; bytes: number }[] = [];
    const fast: { at: number; bytes: number }[] = [];
    const cs = [run(limits.gateFor('slow'), 16 * KiB, slow, clock), run(limits.gateFor('fast'), 16 * KiB, fast, clock)];
    await clock.advance(7_000, 5);
    cs.forEach((c) => c.stop());
    assertWithin(bytesBetween(slow, 1000, 6000), 5 * 256 * KiB, 0.1, 'limited transfer');
    assertWithin(bytesBetween(fast, 1000, 6000), 5 * 768 * KiB, 0.1, 'other transfer');
  });

  it('says whether a gate is limited and announces changes', () => {
    const limits = new BandwidthLimits(0, new FakeClock());
    const gate = limits.gateFor('a');
    let changes = 0;
    limits.onDidChange(() => changes++);
    assert.equal(gate.limited, false);
    limits.setTransferLimit('a', 1000);
    assert.equal(gate.limited, true);
    limits.setTransferLimit('a', 0);
    limits.setGlobalLimit(5000);
    assert.equal(gate.limited, true);
    assert.equal(limits.limitOf('a'), 0);
    assert.equal(changes, 3);
  });
});

describe('parseRate (curl --limit-rate syntax)', () => {
  const table: [string, number | undefined][] = [
    ['0', 0],
    ['1000', 1000],
    ['500K', 500 * 1024],
    ['500k', 500 * 1024],
    ['4M', 4 * 1024 * 1024],
    ['1.5M', 1.5 * 1024 * 1024],
    ['1G', 1024 ** 3],
    ['2T', 2 * 1024 ** 4],
    [' 4M ', 4 * 1024 * 1024],
    ['4MB/s', 4 * 1024 * 1024],
    ['4MiB', 4 * 1024 * 1024],
    ['', undefined],
    ['fast', undefined],
    ['-1M', undefined],
    ['4X', undefined],
    ['1e3', undefined],
  ];
  for (const [text, expected] of table) {
    it(`"${text}" → ${expected}`, () => assert.equal(parseRate(text), expected));
  }

  it('formatRate writes what parseRate reads back', () => {
    for (const bytes of [1000, 500 * 1024, 4 * 1024 * 1024, 1.5 * 1024 * 1024, 1024 ** 3, 1234567]) {
      assert.equal(parseRate(formatRate(bytes)), bytes);
    }
    assert.equal(formatRate(4 * 1024 * 1024), '4M');
    assert.equal(formatRate(500 * 1024), '500K');
  });
});
