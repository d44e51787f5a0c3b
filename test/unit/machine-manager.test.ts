import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Emitter } from '../../src/core/events';
import type { MachineRef } from '../../src/core/state/machine';
import { RECORD_SCHEMA_VERSION, type DownloadRecord, type TransferRecord, type UploadRecord } from '../../src/core/state/record';
import { MemoryTransferStore } from '../../src/core/state/store';
import { TransferManager, isOnAnotherMachine, type RunnerContext } from '../../src/core/transfer/manager';
import type { TransferProgress, TransferRunner } from '../../src/core/transfer/runner';

const LAPTOP: MachineRef = { id: 'laptop-0000-1111', label: 'laptop' };
const BOX: MachineRef = { id: 'box-2222-3333', label: 'build-box (SSH)' };

/** Stands in for a download or upload: "runs" by saving its record completed, and says so. */
class FakeRunner implements TransferRunner {
  readonly onProgress = new Emitter<TransferProgress>().event;
  private readonly recordEmitter = new Emitter<TransferRecord>();
  readonly onRecord = this.recordEmitter.event;
  constructor(
    public record: TransferRecord,
    private readonly context: RunnerContext,
    private readonly log: string[],
  ) {}
  async run(): Promise<TransferRecord> {
    this.log.push(`run ${this.record.id}`);
    this.record = { ...this.record, state: 'completed' };
    await this.context.store.put(this.record);
    return this.record;
  }
  async checkpoint(): Promise<void> {}
  async discard(): Promise<void> {
    this.log.push(`discard ${this.record.id}`);
  }
}

describe('transfers of other machines in the manager', () => {
  let dir: string;
  let store: MemoryTransferStore;
  let log: string[];
  const managers: TransferManager[] = [];

  const manager = (machine: MachineRef | undefined): TransferManager => {
    const m = new TransferManager({
      store,
      machine,
      remoteRefreshMs: 20,
      createRunner: (record, context) => new FakeRunner(record, context, log),
    });
    managers.push(m);
    return m;
  };

  const download = (id: string, extra: Partial<DownloadRecord> = {}): DownloadRecord => ({
    schemaVersion: RECORD_SCHEMA_VERSION,
    id,
    kind: 'download',
    state: 'running',
    createdAt: 1,
    updatedAt: 2,
    url: `https://example.com/${id}.bin`,
    targetDir: path.join(dir, 'data'),
    target: path.join(dir, 'data', `${id}.bin`),
    segments: [{ start: 0, done: 0 }],
    // The window that ran it went away: an expired lease, which this machine would take over.
    lease: { owner: 'gone', expiresAt: 0 },
    ...extra,
  });

  const upload = (id: string, extra: Partial<UploadRecord> = {}): UploadRecord => ({
    schemaVersion: RECORD_SCHEMA_VERSION,
    id,
    kind: 'upload',
    state: 'paused',
    createdAt: 1,
    updatedAt: 2,
    url: 'https://tus.example.com/files/',
    uploadUrl: 'https://tus.example.com/files/abc',
    source: path.join(dir, 'video.mp4'),
    fingerprint: { path: path.join(dir, 'video.mp4'), size: 10, mtimeMs: 5 },
    offset: 4,
    length: 10,
    ...extra,
  });

  const settled = async (m: TransferManager) => {
    for (let i = 0; i < 50 && m.list().some((s) => s.record.state === 'queued' || (s.record.state === 'running' && !s.held)); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rt-machines-'));
    store = new MemoryTransferStore();
    log = [];
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.shutdown()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('after a restart only this machine\'s transfer runs; the other machine\'s is listed, held, with its label', async () => {
    await store.put(download('mine', { machine: LAPTOP }));
    await store.put(download('theirs', { machine: BOX, targetDir: '/nonexistent/home/me/data', target: '/nonexistent/home/me/data/theirs.bin' }));
    const m = manager(LAPTOP);
    await m.restore({ autoResume: true });
    await settled(m);
    assert.deepEqual(log, ['run mine']);
    assert.equal(m.get('mine')?.record.state, 'completed');
    const theirs = m.get('theirs');
    assert.equal(theirs?.held, 'other-machine');
    assert.ok(theirs && isOnAnotherMachine(theirs));
    assert.equal(theirs?.record.machine?.label, 'build-box (SSH)');
    assert.equal(theirs?.record.state, 'running', 'shown as its machine saved it');
    assert.equal(m.activeCount(), 0, 'the other machine\'s transfer is not counted as active here');
    assert.equal(existsSync('/nonexistent'), false);
  });

  it('pause, resume, retry, cancel, speed limits and resume-all leave another machine\'s transfer alone: nothing runs, no file is touched', async () => {
    const part = path.join(dir, 'same-path.bin.part');
    writeFileSync(part, 'bytes of a file that happens to have the same path here');
    await store.put(download('theirs', { machine: BOX, state: 'failed', targetDir: dir, target: path.join(dir, 'same-path.bin') }));
    await store.put(upload('up', { machine: BOX }));
    const m = manager(LAPTOP);
    await m.restore({ autoResume: true });
    const saved = JSON.stringify(await store.list());
    await m.resume('theirs');
    await m.retry('theirs');
    await m.cancel('theirs');
    await m.pause('theirs');
    await m.setSpeedLimit('theirs', 1000);
    await m.resume('up');
    await m.cancel('up');
    await m.resumeAll();
    await m.pauseAll();
    await m.clearFinished();
    await settled(m);
    assert.deepEqual(log, [], 'no runner started, no upload discarded on the server');
    assert.equal(readFileSync(part, 'utf8'), 'bytes of a file that happens to have the same path here');
    assert.equal(JSON.stringify(await store.list()), saved, 'the records are unchanged');
    assert.equal(m.get('theirs')?.record.state, 'failed');
  });

  it('Remove forgets another machine\'s transfer only: its data and its upload on the server stay', async () => {
    const part = path.join(dir, 'same-path.bin.part');
    writeFileSync(part, 'theirs');
    await store.put(download('theirs', { machine: BOX, state: 'paused', targetDir: dir, target: path.join(dir, 'same-path.bin') }));
    await store.put(upload('up', { machine: BOX }));
    const m = manager(LAPTOP);
    await m.restore({ autoResume: true });
    await m.remove('theirs');
    await m.remove('up');
    assert.equal(m.get('theirs'), undefined);
    assert.equal(await store.get('theirs'), undefined);
    assert.equal(await store.get('up'), undefined);
    assert.equal(existsSync(part), true, 'the .part file at the same path here is not deleted');
    assert.deepEqual(log, [], 'the upload is not discarded on the server');
  });

  it('stamps new transfers with this machine, in the saved record', async () => {
    const m = manager(BOX);
    await m.add(download('new', { machine: undefined, state: 'queued', lease: undefined }));
    await settled(m);
    assert.deepEqual((await store.get('new'))?.machine, BOX);
  });

  it('a record saved before machines is adopted by the machine that has its .part file, and runs there', async () => {
    const target = path.join(dir, 'old.bin');
    writeFileSync(`${target}.part`, 'x');
    await store.put(download('old', { targetDir: dir, target }));
    const m = manager(LAPTOP);
    await m.restore({ autoResume: true });
    await settled(m);
    assert.deepEqual(log, ['run old']);
    assert.deepEqual((await store.get('old'))?.machine, LAPTOP);
  });

  it('elsewhere such a record shows as machine unknown, runs nowhere, until a machine adopts it', async () => {
    const missing = path.join(dir, 'not-on-this-machine');
    await store.put(download('old', { state: 'paused', targetDir: missing, target: path.join(missing, 'old.bin') }));
    const box = manager(BOX);
    await box.restore({ autoResume: true });
    assert.equal(box.get('old')?.held, 'machine-unknown');
    assert.equal((await store.get('old'))?.machine, undefined, 'not adopted by a machine that lacks the bytes');
    assert.equal(existsSync(missing), false, 'no folder created while looking');
    await box.resume('old');
    assert.deepEqual(log, []);

    // The machine that has the folder starts and adopts it; the first window learns where it is.
    const laptop = new TransferManager({
      store,
      machine: LAPTOP,
      createRunner: (record, context) => new FakeRunner(record, context, log),
      pathExists: async (file) => file === missing,
    });
    managers.push(laptop);
    await laptop.restore({ autoResume: false });
    assert.deepEqual((await store.get('old'))?.machine, LAPTOP, 'adopted by the machine with the folder');
    assert.equal(laptop.get('old')?.held, undefined, 'one of its own transfers there');
    for (let i = 0; i < 100 && box.get('old')?.held !== 'other-machine'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(box.get('old')?.held, 'other-machine');
    assert.equal(box.get('old')?.record.machine?.label, 'laptop');
  });

  it('without a machine (the CLI) every record is its own, as before', async () => {
    await store.put(download('any', { machine: BOX }));
    const m = manager(undefined);
    await m.restore({ autoResume: true });
    await settled(m);
    assert.deepEqual(log, ['run any']);
  });
});
