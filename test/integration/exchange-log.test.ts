import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ExchangeLog, recordingHttpClient } from '../../src/core';
import { storyOf } from '../../src/vscode/details/detailsModel';
import { runToEnd } from '../support/engine';
import { eachTest, faultServer, harness } from '../support/each-test';
import { randomBytesSeeded, sha256 } from '../support/fault-server';
import { english } from '../support/l10n';

const MiB = 1024 * 1024;

describe('request log of a transfer (details view)', function () {
  this.timeout(30_000);
  const ctx = eachTest({ server: faultServer, h: harness });

  it('a segmented download: every connection\'s Range, If-Range, 206 and Content-Range, as the server saw them', async () => {
    const body = randomBytesSeeded(4 * MiB, 41);
    ctx.server.route('/seg.bin', { body, etag: '"e1"', rateBytesPerSec: 8 * MiB });
    const log = new ExchangeLog();
    const http = recordingHttpClient(ctx.h.http, (e) => log.append(e));
    const done = await runToEnd(ctx.h.task(ctx.server.url('/seg.bin?X-Amz-Signature=s3cr3t'), { http, minSplitBytes: 512 * 1024, record: { connections: 3 } }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.equal(log.list().length, ctx.server.requests.length, 'one entry per request the server got');
    const ranged = log.list().filter((e) => e.request.range);
    assert.ok(ranged.length >= 2, `${ranged.length} range requests`);
    for (const e of ranged) {
      const seen = ctx.server.requests.find((r) => r.headers.range === e.request.range);
      assert.ok(seen, `the server saw ${e.request.range}`);
      assert.equal(e.status, seen.status);
      assert.equal(e.request['if-range'], '"e1"');
      assert.match(e.response['content-range'] ?? '', /^bytes \d+-\d+\/4194304$/);
    }
    assert.equal(log.list()[0].status, 200);
    assert.equal(log.list()[0].response.etag, '"e1"');
    assert.ok(log.list().every((e) => !e.url.includes('s3cr3t')), 'signed-URL query parameters stay out of the log');
  });

  it('credentials never reach the log', async () => {
    ctx.server.route('/auth.bin', { body: randomBytesSeeded(1000, 42), etag: '"a1"' });
    const log = new ExchangeLog();
    const http = recordingHttpClient(ctx.h.http, (e) => log.append(e));
    await runToEnd(ctx.h.task(ctx.server.url('/auth.bin'), { http, headers: () => ({ Authorization: 'Bearer top-secret' }) }));
    assert.equal(ctx.server.requests[0].headers.authorization, 'Bearer top-secret', 'the server got it');
    assert.ok(log.list().length > 0);
    assert.doesNotMatch(JSON.stringify(log.list().map((e) => storyOf(e, english))), /top-secret/);
  });
});
