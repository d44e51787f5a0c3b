import * as assert from 'node:assert/strict';
import { fork, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireClaim, claimHolder, removeStaleClaims, type ClaimOptions } from '../../src/core/state/claim';

describe('claim files', () => {
  let dir: string;
  let resource: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rt-claim-'));
    resource = path.join(dir, 'movie.mkv.part');
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const as = (owner: string, extra: Partial<ClaimOptions> = {}): ClaimOptions => ({ owner, staleMs: 10_000, ...extra });

  it('gives a free resource to the first who asks and tells the second who holds it', async () => {
    const first = await acquireClaim(resource, as('window-a'));
    assert.ok(first.claim);
    const second = await acquireClaim(resource, as('window-b'));
    assert.equal(second.claim, undefined);
    assert.equal(second.holder?.owner, 'window-a');
    assert.equal(second.holder?.pid, process.pid);
    assert.equal((await claimHolder(resource, as('window-b')))?.owner, 'window-a');
  });

  it('is free again once released, and a released claim no longer verifies', async () => {
    const { claim } = await acquireClaim(resource, as('window-a'));
    await claim!.release();
    assert.equal(await claimHolder(resource, as('x')), undefined);
    assert.equal(await claim!.verify(), false);
    assert.ok((await acquireClaim(resource, as('window-b'))).claim);
    assert.deepEqual(await fs.readdir(dir), ['movie.mkv.part.claim.1']);
  });

  it('treats a claim whose heartbeat is older than staleMs as free, and the old holder learns it lost', async () => {
    let now = Date.now();
    const clock = () => now;
    const { claim: old } = await acquireClaim(resource, as('asleep', { now: clock }));
    now += 5_000;
    assert.ok((await acquireClaim(resource, as('awake', { now: clock }))).holder, 'still fresh after 5 s');
    now += 6_000;
    const taken = await acquireClaim(resource, as('awake', { now: clock }));
    assert.ok(taken.claim, 'stale after 11 s');
    // The laptop wakes up: the old holder must find out before it writes again.
    assert.equal(await old!.verify(), false);
    assert.equal(await old!.renew(), false);
    assert.equal(await taken.claim.verify(), true);
    assert.deepEqual(await fs.readdir(dir), ['movie.mkv.part.claim.2']);
  });

  it('renewing keeps a claim from going stale', async () => {
    let now = Date.now();
    const clock = () => now;
    const { claim } = await acquireClaim(resource, as('a', { now: clock }));
    for (let i = 0; i < 4; i++) {
      now += 4_000;
      assert.equal(await claim!.renew(), true);
    }
    assert.equal((await acquireClaim(resource, as('b', { now: clock }))).holder?.owner, 'a');
  });

  it('treats a claim of a process of this machine that is gone as free at once', async () => {
    const gone = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.once('exit', () => resolve(child.pid!));
    });
    const { claim } = await acquireClaim(resource, as('killed-cli', { pid: gone }));
    assert.ok(claim);
    const next = await acquireClaim(resource, as('new-window'));
    assert.ok(next.claim, 'the holder process is gone');
    // A live process of another machine (same pid, other host) is judged by its heartbeat only.
    const other = path.join(dir, 'other.part');
    await acquireClaim(other, as('remote', { pid: gone, host: 'another-host' }));
    assert.equal((await acquireClaim(other, as('here'))).holder?.owner, 'remote');
  });

  it('removes the temporary file of a claim its killed process never linked into place, and keeps a live one', async () => {
    // Found by the chaos soak (seed 100125): a CLI killed while claiming left
    // `<name>.part.claim.1.<hex>.tmp` beside the download, and nothing ever removed it.
    const gone = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.once('exit', () => resolve(child.pid!));
    });
    const holder = (pid: number) => JSON.stringify({ owner: 'cli', pid, host: os.hostname(), nonce: 'n' });
    await fs.writeFile(`${resource}.claim.1.0badc0de.tmp`, holder(gone));
    await fs.writeFile(`${resource}.claim.1.00c0ffee.tmp`, holder(process.pid));
    const { claim } = await acquireClaim(resource, as('rerun'));
    assert.ok(claim);
    assert.deepEqual((await fs.readdir(dir)).sort(), ['movie.mkv.part.claim.1', 'movie.mkv.part.claim.1.00c0ffee.tmp']);
    await claim.release();
    await fs.writeFile(`${resource}.claim.1.0badc0de.tmp`, holder(gone));
    await removeStaleClaims(resource, as('remover'));
    assert.deepEqual(await fs.readdir(dir), ['movie.mkv.part.claim.1.00c0ffee.tmp'], 'the live contender keeps its file');
  });

  it('removes a claim temporary file its process was killed before writing into, judged by the pid in its name', async () => {
    const gone = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.once('exit', () => resolve(child.pid!));
    });
    await fs.writeFile(`${resource}.claim.1.${gone}.0badc0de.tmp`, '');
    await fs.writeFile(`${resource}.claim.1.${process.pid}.00c0ffee.tmp`, '');
    await removeStaleClaims(resource, as('remover'));
    assert.deepEqual(await fs.readdir(dir), [`movie.mkv.part.claim.1.${process.pid}.00c0ffee.tmp`], 'a live contender keeps its file');
  });

  it('a claim file being written (empty) counts as held, not as free', async () => {
    await fs.writeFile(`${resource}.claim.1`, '');
    const attempt = await acquireClaim(resource, as('late'));
    assert.ok(attempt.holder);
  });

  it('of many contenders taking over one stale claim at once, exactly one wins', async function () {
    this.timeout(20_000);
    for (let round = 0; round < 10; round++) {
      let now = Date.now();
      const clock = () => now;
      const target = path.join(dir, `race-${round}.part`);
      const { claim: stale } = await acquireClaim(target, as('crashed', { now: clock }));
      now += 60_000;
      const attempts = await Promise.all(Array.from({ length: 16 }, (_, i) => acquireClaim(target, as(`c${i}`, { now: clock }))));
      const winners = attempts.filter((a) => a.claim);
      assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
      const verified = await Promise.all(attempts.map((a) => a.claim?.verify() ?? false));
      assert.equal(verified.filter(Boolean).length, 1);
      assert.equal(await stale!.verify(), false);
      for (const loser of attempts.filter((a) => a.holder)) assert.equal(loser.holder!.owner, winners[0].claim!.owner);
    }
  });

  it('of many processes claiming one free resource at once, exactly one wins', async function () {
    this.timeout(30_000);
    const script = path.join(dir, 'contender.js');
    const claimModule = require.resolve('../../src/core/state/claim');
    await fs.writeFile(
      script,
      `const { acquireClaim } = require(${JSON.stringify(claimModule)});
       process.once('message', async (resource) => {
         const attempt = await acquireClaim(resource, { owner: 'p' + process.pid });
         const held = attempt.claim ? await attempt.claim.verify() : false;
         // Stay alive until every contender has answered: a dead holder's claim is free.
         process.send(held, () => process.once('message', () => process.exit(0)));
       });`,
    );
    const contenders = Array.from({ length: 6 }, () => fork(script, [], { stdio: 'ignore', execArgv: ['--require', require.resolve('tsx/cjs')] }));
    const answers = contenders.map(
      (child) => new Promise<boolean>((resolve, reject) => {
        child.once('message', (held) => resolve(held === true));
        child.once('error', reject);
      }),
    );
    // All are loaded before any starts, so they really contend.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    contenders.forEach((child) => child.send(resource));
    const held = await Promise.all(answers);
    contenders.forEach((child) => child.send('exit'));
    assert.equal(held.filter(Boolean).length, 1, `winners: ${held.filter(Boolean).length}`);
  });
});
