import * as assert from 'node:assert/strict';
import { newDownloadRecord, type DownloadRecord, type TransferRecord, type TransferStore } from '../../src/core';
import { systemClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { RecordKeeper } from '../../src/core/state/record-keeper';

/**
 * A store whose puts take as long as the test says, and keep the record only once done: like a
 * claim check (file I/O) before the write, so two puts in flight can land out of order.
 */
class SlowStore implements TransferStore {
  stored?: TransferRecord;
  private calls = 0;
  constructor(private readonly delays: number[]) {}
  list = async () => (this.stored ? [this.stored] : []);
  get = async () => this.stored;
  delete = async () => undefined;
  async put(record: TransferRecord): Promise<void> {
    const delay = this.delays[this.calls++] ?? 0;
    await new Promise((resolve) => setTimeout(resolve, delay));
    this.stored = record;
  }
}

describe('record keeper', () => {
  it('a background save asked for while a state change waits never lands after it ("running" over "completed")', async () => {
    // Second put slow, third fast: the interleaving of a progress save and the final update.
    const store = new SlowStore([10, 40, 0]);
    const record: DownloadRecord = { ...newDownloadRecord({ id: 'k', url: 'http://127.0.0.1/k', targetDir: '/tmp', now: 1 }), state: 'running' };
    const keeper = new RecordKeeper(record, { store, clock: systemClock, logger: silentLogger, tag: '[k]' });
    const announced: string[] = [];
    keeper.onRecord((r) => announced.push(r.state));
    keeper.saveSoon(); // a progress save in flight
    const completed = keeper.update({ state: 'completed' });
    keeper.saveSoon(); // the progress timer fires meanwhile
    await completed;
    await keeper.settle();
    assert.equal(store.stored?.state, 'completed');
    assert.equal(announced[announced.length - 1], 'completed');
  });
});
