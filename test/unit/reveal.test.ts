import * as assert from 'node:assert/strict';
import { newDownloadRecord, type DownloadRecord } from '../../src/core';
import { linkMayHaveExpired, revealTargetOf } from '../../src/vscode/reveal';

const record = (patch: Partial<DownloadRecord>): DownloadRecord => ({
  ...newDownloadRecord({ id: 'r', url: 'https://example.com/a.zip', targetDir: '/home/me/downloads', now: 0 }),
  ...patch,
});

describe('Reveal in Explorer', () => {
  it('a failed download that never created a file reveals the folder it would have gone into', () => {
    const failed = record({ state: 'failed', lastError: { code: 'ERR_RETRIES_EXHAUSTED', message: 'refused' } });
    assert.equal(revealTargetOf(failed, () => false), '/home/me/downloads');
  });

  it('a failed download whose part file is gone reveals the folder, not a missing file', () => {
    assert.equal(revealTargetOf(record({ state: 'failed', target: '/home/me/downloads/a.zip' }), () => false), '/home/me/downloads');
  });

  it('an unfinished download reveals its part file; a finished one the file', () => {
    const present = new Set(['/home/me/downloads/a.zip.part']);
    assert.equal(revealTargetOf(record({ state: 'paused', target: '/home/me/downloads/a.zip' }), (f) => present.has(f)), '/home/me/downloads/a.zip.part');
    assert.equal(revealTargetOf(record({ state: 'completed', target: '/home/me/downloads/a.zip' }), () => true), '/home/me/downloads/a.zip');
  });
});

describe('Retry offers a new link', () => {
  it('for 403, 404 and 410, not for 500 or a network failure', () => {
    const failedWith = (status?: number) => record({ state: 'failed', lastError: { code: 'ERR_HTTP_STATUS', message: '', status } });
    assert.deepEqual([403, 404, 410, 500, undefined].map((status) => linkMayHaveExpired(failedWith(status))), [true, true, true, false, false]);
  });
});
