import * as assert from 'node:assert/strict';
import { compareLink, newDownloadRecord, type DownloadRecord, type LinkComparison, type LinkProbe } from '../../src/core';
import { differenceText, keptBytesText, linkSummary, sameFileText } from '../../src/vscode/updateLinkText';
import { chinese, english } from '../support/l10n';

const MiB = 1024 * 1024;

function record(patch: Partial<DownloadRecord> = {}): DownloadRecord {
  return {
    ...newDownloadRecord({ id: 't', url: 'https://old.example/f.iso', targetDir: '/tmp', target: '/tmp/f.iso', now: 1 }),
    state: 'failed',
    length: 4 * MiB,
    etag: '"e1"',
    segments: [{ start: 0, end: 4 * MiB, done: MiB }],
    ...patch,
  };
}

function probe(patch: Partial<LinkProbe> = {}): LinkProbe {
  return { url: 'https://new.example/s', finalUrl: 'https://new.example/s', length: 4 * MiB, name: 'disk.iso', acceptRanges: true, digests: [], ...patch };
}

const different = (r: DownloadRecord, p: LinkProbe) => compareLink(r, p) as Extract<LinkComparison, { verdict: 'different' }>;

describe('what Update Link… says', () => {
  it('nothing to compare: the size, type and name the new link serves', () => {
    assert.equal(linkSummary(probe({ contentType: 'application/x-iso9660-image; charset=binary' }), english), '4.0 MiB, application/x-iso9660-image, “disk.iso”');
    assert.equal(linkSummary(probe({ length: undefined }), english), 'unknown size, unknown type, “disk.iso”');
    assert.equal(linkSummary(probe({ length: undefined }), chinese), '大小未知，类型未知，“disk.iso”');
  });

  it('a different file: says what differs, with both sizes', () => {
    assert.equal(differenceText(record(), different(record(), probe({ length: 3 * MiB })), english), 'size (3.0 MiB, not 4.0 MiB)');
    assert.equal(differenceText(record(), different(record(), probe({ etag: '"e2"' })), english), 'version tag (ETag or Last-Modified)');
    assert.equal(differenceText(record(), different(record(), probe({ length: 3 * MiB })), chinese), '大小（3.0 MiB，而非 4.0 MiB）');
  });

  it('sizes that round alike are told apart in bytes', () => {
    assert.equal(differenceText(record(), different(record(), probe({ length: 4 * MiB + 1 })), english), `size (${4 * MiB + 1} B, not ${4 * MiB} B)`);
  });

  it('several differences read as one sentence part', () => {
    const digests = [{ algorithm: 'sha256' as const, hex: 'a'.repeat(64), source: 'Repr-Digest' }];
    const r = record({ digests });
    const p = probe({ length: 3 * MiB, etag: '"e2"', digests: [{ ...digests[0], hex: 'b'.repeat(64) }] });
    assert.equal(differenceText(r, different(r, p), english), 'size (3.0 MiB, not 4.0 MiB), version tag (ETag or Last-Modified) and checksum');
  });

  it('the same file: accepted, and why', () => {
    const same = compareLink(record(), probe({ etag: '"e1"' })) as Extract<LinkComparison, { verdict: 'same' }>;
    assert.equal(sameFileText(same, english), 'The new link serves the same file (same size and version tag): the download continues where it stopped.');
    assert.equal(sameFileText(same, chinese), '新链接提供的是同一文件（大小和版本标记相同）：下载将从中断处继续。');
  });

  it('starting over says how much is thrown away', () => {
    assert.match(keptBytesText(record(), english), /^The 1\.0 MiB downloaded so far are discarded/);
  });
});
