import assert from 'node:assert/strict';
import { HostConnectionLimits } from '../../src/core/download/host-limits';
import { compactSegments, isComplete, pickWork, planSegments, remainingOf, splitAt } from '../../src/core/download/planner';
import type { Segment } from '../../src/core/state/record';

const MiB = 1024 * 1024;

describe('piece planner', () => {
  it('takes an idle unfinished segment before splitting, the one with most left first', () => {
    const segments: Segment[] = [
      { start: 0, end: 10 * MiB, done: 10 * MiB },
      { start: 10 * MiB, end: 20 * MiB, done: 2 * MiB },
      { start: 20 * MiB, end: 40 * MiB, done: 0 },
    ];
    assert.deepEqual(pickWork(segments, new Set()), { kind: 'take', segment: segments[2] });
    assert.deepEqual(pickWork(segments, new Set([segments[2]])), { kind: 'take', segment: segments[1] });
  });

  it('in file order (one connection, open-ended answers), takes the first unfinished segment', () => {
    const segments: Segment[] = [
      { start: 0, end: 10 * MiB, done: 10 * MiB },
      { start: 10 * MiB, end: 20 * MiB, done: 2 * MiB },
      { start: 20 * MiB, end: 40 * MiB, done: 0 },
    ];
    assert.deepEqual(pickWork(segments, new Set(), MiB, true), { kind: 'take', segment: segments[1] });
  });

  it('splits the largest missing run in the middle of what is left', () => {
    const segments: Segment[] = [
      { start: 0, end: 10 * MiB, done: 1 * MiB },
      { start: 10 * MiB, end: 40 * MiB, done: 10 * MiB },
    ];
    const work = pickWork(segments, new Set(segments));
    assert.deepEqual(work, { kind: 'split', from: segments[1], at: 20 * MiB + 10 * MiB });
  });

  it('never splits below twice the minimum size', () => {
    const segments: Segment[] = [{ start: 0, end: 3 * MiB, done: 1.5 * MiB }];
    assert.equal(pickWork(segments, new Set(segments), MiB), undefined);
    assert.equal(pickWork([{ start: 0, end: 4 * MiB, done: 1 * MiB }], new Set(), MiB)?.kind, 'take');
  });

  it('splitAt shortens the owner and inserts the new piece in order', () => {
    const segments: Segment[] = [{ start: 0, end: 100, done: 10 }, { start: 100, end: 200, done: 0 }];
    const created = splitAt(segments, segments[0], 50);
    assert.deepEqual(segments, [{ start: 0, end: 50, done: 10 }, { start: 50, end: 100, done: 0 }, { start: 100, end: 200, done: 0 }]);
    assert.equal(created, segments[1]);
    assert.throws(() => splitAt(segments, segments[0], 5));
    assert.throws(() => splitAt(segments, segments[0], 50));
  });

  it('plans even pieces that cover the file exactly', () => {
    for (const [length, connections, expected] of [
      [10 * MiB, 4, 4],
      [3 * MiB, 8, 3],
      [MiB / 2, 8, 1],
      [10 * MiB + 7, 3, 3],
    ] as const) {
      const plan = planSegments(length, connections, MiB);
      assert.equal(plan.length, expected);
      assert.equal(plan[0].start, 0);
      assert.equal(plan[plan.length - 1].end, length);
      for (let i = 1; i < plan.length; i++) assert.equal(plan[i].start, plan[i - 1].end);
    }
  });

  it('compacts adjacent finished pieces only', () => {
    const merged = compactSegments([
      { start: 0, end: 10, done: 10 },
      { start: 10, end: 20, done: 10 },
      { start: 20, end: 30, done: 5 },
      { start: 30, end: 40, done: 10 },
    ]);
    assert.deepEqual(merged, [{ start: 0, end: 20, done: 20 }, { start: 20, end: 30, done: 5 }, { start: 30, end: 40, done: 10 }]);
    assert.ok(isComplete(merged[0]));
    assert.equal(remainingOf(merged[1]), 5);
  });
});

describe('per-host connection limits', () => {
  it('halves on trouble, keeps the lower limit when merging, and reports every change', () => {
    const reported: Record<string, number>[] = [];
    const limits = HostConnectionLimits.fromJSON({ 'a:8080': 4, 'bad': 0 }, (all) => reported.push(all));
    assert.equal(limits.limitFor('http://a:8080/x', 8), 4, 'a saved limit applies from the start');
    assert.equal(limits.limitFor('http://b/x', 8), 8);
    assert.equal(limits.reduce('http://b/x', 8), 4);
    limits.merge({ 'b': 6, 'c': 2 });
    assert.equal(limits.limitFor('http://b/x', 8), 4, 'the lower limit wins');
    assert.equal(limits.limitFor('http://c/x', 8), 2);
    limits.merge({ 'c': 2 });
    assert.deepEqual(reported, [{ 'a:8080': 4, b: 4 }, { 'a:8080': 4, b: 4, c: 2 }], 'loading does not report; unchanged merges do not either');
    assert.deepEqual(HostConnectionLimits.fromJSON(JSON.parse(JSON.stringify(limits))).toJSON(), { 'a:8080': 4, b: 4, c: 2 });
  });
});
