import * as assert from 'node:assert/strict';
import { newDownloadRecord, type DownloadRecord, type TransferSnapshot } from '../../src/core';
import { tooltipMarkdown } from '../../src/vscode/presentation';
import { statusSummary } from '../../src/vscode/statusText';
import { chinese, english } from '../support/l10n';

const MiB = 1024 * 1024;
const NOW = 1_750_000_000_000;
const HERE = { id: 'laptop-0000-1111', label: 'laptop' };
const BOX = { id: 'box-2222-3333', label: 'build-box (SSH)' };

function running(id: string, machine: typeof HERE): DownloadRecord {
  const base = newDownloadRecord({ id, url: `https://files.example.com/${id}.iso`, targetDir: '/home/me/work', now: NOW });
  return { ...base, machine, state: 'running', length: 64 * MiB, segments: [{ start: 0, end: 64 * MiB, done: 8 * MiB }] };
}

describe('where a transfer lives, in the status bar and the tooltip', () => {
  it("the status bar counts only this machine's transfers", () => {
    const snapshots: TransferSnapshot[] = [
      { record: running('mine', HERE), progress: { id: 'mine', bytes: 8 * MiB, length: 64 * MiB, bytesPerSecond: MiB } },
      { record: running('theirs', BOX), held: 'other-machine' },
      { record: { ...running('old', HERE), machine: undefined }, held: 'machine-unknown' },
    ];
    const summary = statusSummary(snapshots, english);
    assert.match(summary?.text ?? '', /\b1 running\b/);
    assert.doesNotMatch(summary?.text ?? '', /\b[23] running\b/);
  });

  it("a row's tooltip names the machine that holds its bytes, in English and Chinese", () => {
    const snapshot: TransferSnapshot = { record: running('mine', HERE) };
    assert.match(tooltipMarkdown(snapshot, english, NOW), /^- Machine: laptop$/m);
    assert.match(tooltipMarkdown(snapshot, chinese, NOW), /^- 机器：laptop$/m);
    assert.doesNotMatch(tooltipMarkdown({ record: { ...running('old', HERE), machine: undefined } }, english, NOW), /Machine/);
  });
});
