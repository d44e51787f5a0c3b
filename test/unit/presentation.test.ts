import * as assert from 'node:assert/strict';
import {
  newDownloadRecord,
  newUploadRecord,
  checkDigests,
  USER_SOURCE,
  type DownloadRecord,
  type RecordedError,
  type TransferError,
  type TransferSnapshot,
  type UploadRecord,
} from '../../src/core';
import { describe as describeRow, failureNotice, fellBackToPlainPut, plainPutNotice, tooltipMarkdown } from '../../src/vscode/presentation';
import { statusSummary } from '../../src/vscode/statusText';
import { chinese, english } from '../support/l10n';

const MiB = 1024 * 1024;
const NOW = 1_750_000_000_000;

function download(patch: Partial<DownloadRecord> = {}): DownloadRecord {
  const base = newDownloadRecord({ id: 'd1', url: 'https://files.example.com/data/big.iso', targetDir: '/home/me/work', now: NOW });
  return { ...base, target: '/home/me/work/big.iso', ...patch };
}

function upload(patch: Partial<UploadRecord> = {}): UploadRecord {
  const base = newUploadRecord({
    id: 'u1',
    url: 'https://files.example.com/uploads/',
    fingerprint: { path: '/home/me/work/big.iso', size: 64 * MiB, mtimeMs: NOW },
    now: NOW,
  });
  return { ...base, protocol: 'tus', resumable: true, ...patch };
}

/** A 64 MiB download with `done` bytes in one segment. */
function downloadAt(done: number, patch: Partial<DownloadRecord> = {}): DownloadRecord {
  return download({ length: 64 * MiB, segments: [{ start: 0, end: 64 * MiB, done }], ...patch });
}

/** The tooltip as the user reads it: Markdown escapes and code marks removed. */
const plain = (markdown: string) => markdown.replace(/\\(.)/g, '$1').replace(/`/g, '');

const snap = (record: TransferSnapshot['record'], rest: Omit<TransferSnapshot, 'record'> = {}): TransferSnapshot => ({ record, ...rest });

describe('what a row says', () => {
  it('a running download puts percent, then time left first; bytes are only in the tooltip', () => {
    const s = snap(downloadAt(20 * MiB, { state: 'running' }), { progress: { id: 'd1', bytes: 20 * MiB, length: 64 * MiB, bytesPerSecond: 2 * MiB, etaSeconds: 22 } });
    assert.equal(describeRow(s, english, NOW), '31% · 0:22 left · 2.0 MiB/s');
    assert.match(plain(tooltipMarkdown(s, english, NOW)), /^- Progress: 20\.0 MiB of 64\.0 MiB \(31%\)$/m);
  });

  it('a cancelled row shows no progress of the partial data that was deleted', () => {
    const s = snap(downloadAt(22.8 * MiB, { state: 'cancelled' }));
    assert.equal(describeRow(s, english, NOW), 'Cancelled');
    assert.doesNotMatch(tooltipMarkdown(s, english, NOW), /%|MiB/);
  });

  it('the tooltip names the state once, not "Paused — Paused · 19%"', () => {
    for (const state of ['paused', 'queued', 'running', 'completed', 'cancelled'] as const) {
      const s = snap(downloadAt(12 * MiB, { state }));
      const label = { paused: 'Paused', queued: 'Queued', running: 'Running', completed: 'Completed', cancelled: 'Cancelled' }[state];
      const count = tooltipMarkdown(s, english, NOW).split(label).length - 1;
      assert.equal(count, 1, `${label} appears ${count} times`);
    }
  });

  it('while waiting to retry: "Retrying in 4 s (2 of 5): connection refused"', () => {
    const lastError = { code: 'ERR_NETWORK', message: 'network error: ECONNREFUSED', networkReason: 'connection-refused', retry: { attempt: 2, of: 5, at: NOW + 3_200 } };
    const s = snap(download({ state: 'running', lastError }));
    assert.equal(describeRow(s, english, NOW), 'Retrying in 4 s (2 of 5): connection refused');
    assert.equal(describeRow(s, chinese, NOW), '4 秒后重试（第 2 次，共 5 次）：连接被拒绝');
    assert.equal(describeRow(s, english, NOW + 5_000), 'Retrying (2 of 5): connection refused');
  });

  it('once bytes flow again after a retry, the row shows progress again', () => {
    const lastError = { code: 'ERR_NETWORK', message: 'reset', networkReason: 'connection-reset', retry: { attempt: 1, of: 5, at: NOW - 1_000 } };
    const s = snap(downloadAt(32 * MiB, { state: 'running', lastError }), { progress: { id: 'd1', bytes: 32 * MiB, length: 64 * MiB, bytesPerSecond: MiB, etaSeconds: 32 } });
    assert.equal(describeRow(s, english, NOW), '50% · 0:32 left · 1.0 MiB/s');
  });

  it('a final failure names the cause, and offers to continue only when bytes exist', () => {
    const refused = { code: 'ERR_RETRIES_EXHAUSTED', message: 'gave up', networkReason: 'connection-refused' };
    assert.equal(describeRow(snap(download({ state: 'failed', lastError: refused })), english, NOW), 'Failed: Gave up after repeated failures: connection refused.');
    assert.equal(
      describeRow(snap(downloadAt(8 * MiB, { state: 'failed', lastError: { ...refused, networkReason: 'host-not-found' } })), english, NOW),
      'Failed: Gave up after repeated failures: host not found. Retry to continue where it stopped. · 12%',
    );
    const tls = { code: 'ERR_RETRIES_EXHAUSTED', message: 'gave up', networkReason: 'tls-untrusted' };
    assert.match(describeRow(snap(download({ state: 'failed', lastError: tls })), english, NOW), /TLS certificate not trusted\.$/);
    const timeout = { code: 'ERR_RETRIES_EXHAUSTED', message: 'gave up', networkReason: 'timed-out' };
    assert.match(describeRow(snap(download({ state: 'failed', lastError: timeout })), english, NOW), /: timed out\.$/);
    assert.equal(describeRow(snap(download({ state: 'failed', lastError: refused })), chinese, NOW), '失败：多次失败后已放弃：连接被拒绝。');
  });

  it('an upload says where it goes; a finished upload and a finished download of one file differ', () => {
    const up = describeRow(snap(upload({ state: 'completed', offset: 64 * MiB })), english, NOW);
    const down = describeRow(snap(downloadAt(64 * MiB, { state: 'completed' })), english, NOW);
    assert.equal(up, 'Uploaded to files.example.com · 64.0 MiB');
    assert.equal(down, 'Completed · 64.0 MiB');
    const running = snap(upload({ state: 'running', offset: 16 * MiB }), { progress: { id: 'u1', bytes: 16 * MiB, length: 64 * MiB, bytesPerSecond: MiB, etaSeconds: 48 } });
    assert.equal(describeRow(running, english, NOW), '25% · 0:48 left · 1.0 MiB/s · ↑ to files.example.com');
  });

  it('a failed plain-PUT upload says it was an upload, where to, and that it fell back to plain PUT', () => {
    const s = snap(upload({ state: 'failed', protocol: 'put', resumable: false, lastError: { code: 'ERR_HTTP_STATUS', message: '404', status: 404 } }));
    assert.equal(
      failureNotice(s, english),
      'Upload of big.iso to files.example.com (plain PUT: the endpoint offers no resumable upload protocol) failed: The server answered with HTTP status 404.',
    );
    assert.match(describeRow(s, english, NOW), /cannot resume · ↑ to files\.example\.com$/);
    assert.equal(failureNotice(snap(download({ state: 'failed', lastError: { code: 'ERR_HTTP_STATUS', message: '404', status: 404 } })), english), 'Download of big.iso failed: The server answered with HTTP status 404.');
  });

  it('an upload that falls back to plain PUT is told so, once detection found nothing better', () => {
    const detected = upload({ state: 'running', protocol: 'put', resumable: false });
    assert.equal(fellBackToPlainPut(detected), true);
    assert.equal(fellBackToPlainPut(upload({ state: 'running', protocol: 'tus', resumable: true })), false);
    assert.equal(
      plainPutNotice(snap(detected), english),
      'big.iso goes to files.example.com in one plain PUT: the endpoint offers no resumable upload protocol, so an interrupted upload starts again from the beginning.',
    );
  });

  it('a checksum mismatch names the checksum that disagreed, as saved in the record, in English and Chinese', () => {
    const failedAgainst = (source: string) => {
      try {
        checkDigests([{ algorithm: 'sha256', hex: '0'.repeat(64), source }], { sha256: 'f'.repeat(64) });
      } catch (error) {
        // What the record keeps (and what a reload reads back).
        const lastError = JSON.parse(JSON.stringify((error as TransferError).toJSON())) as RecordedError;
        return snap(download({ state: 'failed', lastError }));
      }
      throw new Error('no mismatch');
    };
    const sums = failedAgainst('SHA256SUMS');
    assert.equal(describeRow(sums, english, NOW), 'Failed: The downloaded file does not match the sha256 from SHA256SUMS.');
    assert.equal(failureNotice(sums, english), 'Download of big.iso failed: The downloaded file does not match the sha256 from SHA256SUMS.');
    assert.equal(describeRow(sums, chinese, NOW), '失败：下载的文件与校验和不一致（来自 SHA256SUMS 的 sha256）。');
    assert.equal(describeRow(failedAgainst(USER_SOURCE), english, NOW), 'Failed: The downloaded file does not match the sha256 you gave.');
  });

  it('Chinese rows and tooltips use the full-width colon', () => {
    const s = snap(download({ state: 'failed', lastError: { code: 'ERR_HTTP_STATUS', message: '403', status: 403 } }));
    assert.ok(describeRow(s, chinese, NOW).startsWith('失败：'));
    const tooltip = plain(tooltipMarkdown(s, chinese, NOW));
    assert.match(tooltip, /^- 下载自：files\.example\.com$/m);
    assert.doesNotMatch(tooltip, /[\u4e00-\u9fff]:/);
  });
});

describe('what the status bar says', () => {
  const running = (id: string, bytes: number, length: number | undefined, speed: number): TransferSnapshot =>
    snap({ ...download({ id, state: 'running', length, segments: [{ start: 0, end: length, done: bytes }] }) }, {
      progress: { id, bytes, length, bytesPerSecond: speed, etaSeconds: length === undefined ? undefined : (length - bytes) / speed },
    });

  it('shows the same percentage as the row of the only transfer', () => {
    for (const bytes of [1, 20_971_519, 20_971_520, 21_000_000, 67_108_863]) {
      const s = running('a', bytes, 64 * MiB, MiB);
      const rowPercent = describeRow(s, english, NOW).split(' · ')[0];
      assert.ok(statusSummary([s], english)?.text.startsWith(`$(cloud-download) ${rowPercent} `), `at ${bytes} bytes`);
    }
  });

  it('counts a queued transfer as queued, as its row says, not as active', () => {
    const summary = statusSummary([snap(downloadAt(8 * MiB, { state: 'queued' }))], english);
    assert.equal(summary?.text, '$(clock) 1 queued');
  });

  it('with a transfer of unknown size leaves no stray separator and still shows bytes', () => {
    const summary = statusSummary([running('a', 10 * MiB, 64 * MiB, 5 * MiB), running('b', 3 * MiB, undefined, 4.7 * MiB)], english);
    assert.equal(summary?.text, '$(cloud-download) 13.0 MiB · 9.7 MiB/s · 2 running');
    assert.doesNotMatch(summary?.text ?? '', /(^|\s)·\s·|^\s*·/);
  });

  it('the failed count goes away once the failed rows are gone, and so does the item', () => {
    const failed = snap(download({ state: 'failed', lastError: { code: 'ERR_HTTP_STATUS', message: '404', status: 404 } }));
    assert.equal(statusSummary([failed], english)?.text, '$(warning) 1 failed');
    assert.equal(statusSummary([], english), undefined);
  });
});

describe('speed limits where the user looks', () => {
  const limited = snap(downloadAt(20 * MiB, { state: 'running', maxBytesPerSecond: 512 * 1024 }), {
    progress: { id: 'd1', bytes: 20 * MiB, length: 64 * MiB, bytesPerSecond: 512 * 1024, etaSeconds: 88 },
  });

  it("the row ends with the transfer's own limit, in English and Chinese", () => {
    assert.match(describeRow(limited, english, NOW), / · limit 512 KiB\/s$/);
    assert.match(describeRow(limited, chinese, NOW), /限速 512 KiB\/s$/);
    assert.doesNotMatch(describeRow(snap(downloadAt(20 * MiB, { state: 'running' })), english, NOW), /limit/);
  });

  it('the status bar tooltip names the global limit and the limit of each running transfer', () => {
    const tooltip = statusSummary([limited], english, 4 * MiB)?.tooltip ?? '';
    assert.match(tooltip, /^Speed limit for all transfers: 4\.0 MiB\/s$/m);
    assert.match(tooltip, /^Speed limit for big\.iso: 512 KiB\/s$/m);
    assert.doesNotMatch(statusSummary([snap(downloadAt(1, { state: 'running' }))], english)?.tooltip ?? '', /Speed limit/);
  });
});
