import assert from 'node:assert/strict';
import type { promises as fs } from 'node:fs';
import { ProgressSaver } from '../../src/core/download/progress-saver';
import { silentLogger } from '../../src/core/logger';
import type { Segment } from '../../src/core/state/record';

/** Records what happened, in order: syncs of the part file and saves of the record (with what they claim). */
function harness(options: { intervalMs?: number; everyBytes?: number; syncFails?: boolean } = {}) {
  const events: string[] = [];
  const segments: Segment[] = [{ start: 0, end: 1_000, done: 0 }];
  const live = { segments };
  const file = {
    datasync: async () => {
      events.push('sync');
      if (options.syncFails) throw new Error('EIO');
    },
  } as unknown as fs.FileHandle;
  const saver: ProgressSaver = new ProgressSaver({
    segments: () => live.segments,
    save: () => events.push(`save ${saver.claimable(live.segments).map((s) => s.done).join(',')}`),
    intervalMs: options.intervalMs ?? 3_600_000,
    everyBytes: options.everyBytes ?? 1_000_000,
    logger: silentLogger,
    tag: '[t]',
    now: () => 0,
  });
  saver.attach(file);
  return { events, segments, saver, live };
}

describe('ProgressSaver (what a saved record may claim)', () => {
  it('syncs the part file before a save claims the bytes', async () => {
    const { events, segments, saver } = harness();
    segments[0].done = 300;
    assert.deepEqual(saver.claimable(segments).map((s) => s.done), [0], 'written but not synced: not claimable');
    await saver.saveNow();
    assert.deepEqual(events, ['sync', 'save 300']);
  });

  it('saves on a timer while no more bytes arrive (the last burst before a stall)', async () => {
    const { events, segments, saver } = harness({ intervalMs: 20 });
    saver.start();
    try {
      segments[0].done = 700;
      await new Promise((resolve) => setTimeout(resolve, 80));
      assert.ok(events.includes('save 700'), events.join(' | '));
      const count = events.length;
      await new Promise((resolve) => setTimeout(resolve, 80));
      assert.equal(events.length, count, 'nothing new: no more saves');
    } finally {
      saver.stop();
    }
  });

  it('bytes written while the sync runs are not claimed by that save', async () => {
    const { segments, saver } = harness();
    segments[0].done = 100;
    const saving = saver.saveNow();
    segments[0].done = 900;
    await saving;
    assert.deepEqual(saver.claimable(segments).map((s) => s.done), [100]);
  });

  it('a failed sync claims nothing new', async () => {
    const { events, segments, saver } = harness({ syncFails: true });
    segments[0].done = 500;
    await saver.saveNow();
    assert.deepEqual(events, ['sync', 'save 0']);
  });

  it('saves by volume and holds writes back while a save is behind by that volume', async () => {
    const { events, segments, saver } = harness({ everyBytes: 100 });
    segments[0].done = 150;
    saver.noteWritten();
    assert.ok(saver.room() === undefined, 'the snapshot just taken covers what was written');
    segments[0].done = 260;
    const wait = saver.room();
    assert.ok(wait, 'another 100 bytes during the sync: the writer waits');
    await wait;
    assert.equal(events[0], 'sync');
    assert.ok(events.includes('save 150'), events.join(' | '));
  });

  it('a new layout (restart) is claimed as given, and a snapshot of the old one never overrides it', async () => {
    const { events, segments, saver, live } = harness();
    segments[0].done = 400;
    const saving = saver.saveNow();
    const fresh: Segment[] = [{ start: 0, done: 0 }];
    live.segments = fresh;
    saver.adopt(fresh);
    await saving;
    assert.deepEqual(events, ['sync', 'save 0']);
    fresh[0].done = 50;
    assert.deepEqual(saver.claimable(fresh).map((s) => s.done), [0]);
  });
});
