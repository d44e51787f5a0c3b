import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PositionalWriter } from '../../src/core/download/positional-writer';

describe('PositionalWriter', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'rt-pw-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes chunks in order at consecutive positions and reports only completed bytes', async () => {
    const file = path.join(dir, 'f');
    const handle = await open(file, 'w+');
    await handle.write(Buffer.from('HEAD'), 0, 4, 0);
    let reported = 0;
    const writer = new PositionalWriter(handle, 4, (n) => (reported += n), 8);
    const chunks = ['abc', 'defgh', 'ij', 'klmnopq', 'r'];
    for (const c of chunks) {
      await writer.write(Buffer.from(c));
      assert.ok(reported <= writer.acceptedEnd - 4, 'never reports more than was accepted');
    }
    assert.equal(writer.acceptedEnd, 4 + chunks.join('').length);
    await writer.flush();
    assert.equal(reported, chunks.join('').length);
    assert.equal(writer.writtenEnd, writer.acceptedEnd);
    await handle.close();
    assert.equal(await readFile(file, 'utf8'), `HEAD${chunks.join('')}`);
  });

  it('surfaces a write error on the next call and on flush', async () => {
    const file = path.join(dir, 'ro');
    await (await open(file, 'w')).close();
    const handle = await open(file, 'r');
    const writer = new PositionalWriter(handle, 0, () => undefined, 1);
    await writer.write(Buffer.from('x')).catch(() => undefined);
    await assert.rejects(writer.flush(), (e: NodeJS.ErrnoException) => e.code === 'EBADF');
    await handle.close();
  });
});
