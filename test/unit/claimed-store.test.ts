import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClaimedStore } from '../../src/core/state/claimed-store';
import { RECORD_SCHEMA_VERSION, type DownloadRecord, type TransferRecord } from '../../src/core/state/record';
import { MemoryTransferStore } from '../../src/core/state/store';
import { TransferClaim } from '../../src/core/state/transfer-claim';
import type { TransferError } from '../../src/core/errors';

describe('a runner saves through a ClaimedStore', () => {
  let dir: string;
  let now: number;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rt-claimed-'));
    now = Date.now();
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const download = (id: string, target?: string, done = 0): DownloadRecord => ({
    schemaVersion: RECORD_SCHEMA_VERSION,
    id,
    kind: 'download',
    state: 'running',
    createdAt: 1,
    updatedAt: 1,
    url: `https://example.com/${id}`,
    targetDir: dir,
    target,
    length: 100,
    segments: [{ start: 0, end: 100, done }],
  });
  // checkEveryMs 0: every write looks at the claim files (in use, a look is reused for 250 ms).
  const claimFor = (owner: string) =>
    new TransferClaim({ owner, staleMs: 10_000, now: () => now, checkEveryMs: 0, recordResource: (id) => path.join(dir, '.claims', id) });
  const lease = (owner: string) => <T extends TransferRecord>(r: T): T => ({ ...r, lease: { owner, expiresAt: now + 1 } });
  const elsewhere = (e: TransferError) => e.code === 'ERR_RUNNING_ELSEWHERE';

  it('stamps every save and claims the .part as soon as the record names it', async () => {
    const records = new MemoryTransferStore();
    const store = new ClaimedStore(records, claimFor('window-a'), lease('window-a'));
    await store.put(download('a'));
    assert.equal((await records.get('a'))?.lease?.owner, 'window-a');
    assert.deepEqual(await fs.readdir(dir), ['.claims'], 'no .part claim before there is a name');
    await store.put(download('a', path.join(dir, 'movie.mkv')));
    assert.ok((await fs.readdir(dir)).includes('movie.mkv.part.claim.1'));

    // Another record (the CLI, another window's download) naming the same file cannot claim it.
    const other = claimFor('window-b');
    await assert.rejects(other.confirm(download('b', path.join(dir, 'movie.mkv'))), elsewhere);
  });

  it('once another window took over, the old runner can neither save nor write, and hears of it once', async () => {
    const records = new MemoryTransferStore();
    const asleep = claimFor('window-a');
    const lost: TransferError[] = [];
    asleep.onLost((e) => lost.push(e));
    const store = new ClaimedStore(records, asleep, lease('window-a'));
    await store.put(download('a', path.join(dir, 'f.bin'), 10));
    await asleep.guard();

    now += 60_000; // A sleeps; its heartbeat goes stale and B takes over.
    const awake = claimFor('window-b');
    await awake.confirm(download('a', path.join(dir, 'f.bin')));
    await new ClaimedStore(records, awake, lease('window-b')).put(download('a', path.join(dir, 'f.bin'), 50));

    await assert.rejects(asleep.guard(), elsewhere);
    await assert.rejects(store.put(download('a', path.join(dir, 'f.bin'), 11)), elsewhere);
    const saved = (await records.get('a')) as DownloadRecord;
    assert.equal(saved.lease?.owner, 'window-b');
    assert.equal(saved.segments[0].done, 50, 'the new owner\'s progress stays');
    assert.equal(lost.length, 1);
    assert.equal(await asleep.renew(), false);
  });
});
