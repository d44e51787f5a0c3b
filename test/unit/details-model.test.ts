import * as assert from 'node:assert/strict';
import { ExchangeLog, ExchangeLogs, newDownloadRecord, newUploadRecord, type DownloadRecord, type Exchange, type TransferSnapshot } from '../../src/core';
import { detailsModel, piecesOf, storyOf } from '../../src/vscode/details/detailsModel';
import { SpeedHistory } from '../../src/vscode/details/speedHistory';
import { english } from '../support/l10n';

const MiB = 1024 * 1024;
const T0 = 1_750_000_000_000;

function segmented(done: number[], state: DownloadRecord['state'] = 'running'): TransferSnapshot {
  const length = 4 * MiB;
  const record: DownloadRecord = {
    ...newDownloadRecord({ id: 'd', url: 'https://files.example.com/big.iso', targetDir: '/tmp', now: T0 }),
    target: '/tmp/big.iso',
    state,
    length,
    segments: done.map((d, i) => ({ start: i * MiB, end: (i + 1) * MiB, done: d })),
  };
  return { record };
}

const exchange = (patch: Partial<Exchange>): Exchange => ({ at: T0, ms: 12, method: 'GET', url: 'https://files.example.com/big.iso', request: {}, response: {}, ...patch });

describe('details view: piece map', () => {
  it('done, in flight (one colour per connection whose bytes grow) and missing', () => {
    const snapshot = segmented([MiB, MiB / 2, MiB / 4, 0]);
    const { pieces, colours } = piecesOf(snapshot, new Set([MiB, 2 * MiB]), {}, english);
    assert.deepEqual(
      pieces.map((p) => [p.state, p.from, p.to, p.connection]),
      [
        ['done', 0, 0.25, undefined],
        ['done', 0.25, 0.375, undefined],
        ['flight', 0.375, 0.5, 0],
        ['done', 0.5, 0.5625, undefined],
        ['flight', 0.5625, 0.75, 1],
        ['missing', 0.75, 1, undefined],
      ],
    );
    assert.deepEqual(colours, { [MiB]: 0, [2 * MiB]: 1 });
  });

  it('a paused download has nothing in flight', () => {
    const { pieces } = piecesOf(segmented([MiB, MiB / 2, 0, 0], 'paused'), new Set([MiB]), {}, english);
    assert.ok(pieces.every((p) => p.state !== 'flight'));
  });

  it('an upload is one run: confirmed by the server, then in flight', () => {
    const record = { ...newUploadRecord({ id: 'u', url: 'https://up.example.com/files/', fingerprint: { path: '/tmp/a.bin', size: 100, mtimeMs: 0 }, now: T0 }), state: 'running' as const, offset: 40 };
    const { pieces } = piecesOf({ record }, new Set(), {}, english);
    assert.deepEqual(pieces.map((p) => [p.state, p.from, p.to]), [['done', 0, 0.4], ['flight', 0.4, 1]]);
  });
});

describe('details view: live segments', () => {
  it('while running, the map and the speeds follow the segments as written, not the last save', () => {
    const saved = segmented([0, 0, 0, 0]);
    const live = (done: number[]): TransferSnapshot => ({
      ...saved,
      progress: { id: 'd', bytes: done.reduce((a, b) => a + b, 0), length: 4 * MiB, bytesPerSecond: MiB, segments: done.map((d, i) => ({ start: i * MiB, end: (i + 1) * MiB, done: d })) },
    });
    const history = new SpeedHistory();
    history.add(live([0, 0, 0, 0]), T0);
    history.add(live([MiB / 4, MiB / 8, 0, 0]), T0 + 1000);
    assert.deepEqual(history.list().at(-1)?.connections, { 0: MiB / 4, [MiB]: MiB / 8 });
    const { pieces } = piecesOf(live([MiB / 4, MiB / 8, 0, 0]), history.activeConnections(), history.connectionColours(), english);
    assert.deepEqual(pieces.filter((p) => p.state !== 'missing').map((p) => [p.state, p.connection]), [['done', undefined], ['flight', 0], ['done', undefined], ['flight', 1]]);
  });

  it('a connection keeps its colour when another one finishes first', () => {
    const history = new SpeedHistory();
    const at = (done: number[], t: number) =>
      history.add({ ...segmented([0, 0]), progress: { id: 'd', bytes: 0, bytesPerSecond: 1, segments: done.map((d, i) => ({ start: i * MiB, end: (i + 1) * MiB, done: d })) } }, t);
    at([0, 0], T0);
    at([10, 10], T0 + 1000);
    at([MiB, 20], T0 + 2000);
    at([MiB, 30], T0 + 6000);
    assert.deepEqual(history.connectionColours(), { 0: 0, [MiB]: 1 });
    assert.deepEqual([...history.activeConnections()], [MiB]);
  });
});

describe('details view: speed per connection', () => {
  it('measures each segment by the growth of its saved bytes between samples', () => {
    const history = new SpeedHistory();
    history.add({ ...segmented([0, 0, 0, 0]), progress: { id: 'd', bytes: 0, length: 4 * MiB, bytesPerSecond: 0 } }, T0);
    history.add({ ...segmented([MiB / 2, MiB / 4, 0, 0]), progress: { id: 'd', bytes: 0.75 * MiB, length: 4 * MiB, bytesPerSecond: 0.75 * MiB } }, T0 + 1000);
    const last = history.list().at(-1)!;
    assert.deepEqual(last.connections, { 0: MiB / 2, [MiB]: MiB / 4 });
    assert.equal(last.total, 0.75 * MiB);
    assert.deepEqual([...history.activeConnections()].sort((a, b) => a - b), [0, MiB]);
  });
});

describe('details view: the request story', () => {
  it('tells Range / If-Range, the status, Content-Range and validators; hides other header values', () => {
    const item = storyOf(
      exchange({
        request: { range: 'bytes=1048576-2097151', 'if-range': '"v1"', authorization: '…' },
        status: 206,
        response: { 'content-range': 'bytes 1048576-2097151/4194304', etag: '"v1"' },
      }),
      english,
    );
    assert.equal(item.title, 'GET files.example.com/big.iso');
    assert.deepEqual(item.sent, ['range: bytes=1048576-2097151', 'if-range: "v1"', 'authorization: …']);
    assert.equal(item.outcome, '206 after 12 ms');
    assert.deepEqual(item.received, ['content-range: bytes 1048576-2097151/4194304', 'etag: "v1"']);
    assert.equal(item.tone, 'ok');
  });

  it('a 200 to a range request stands out; an upload shows the server offset', () => {
    assert.equal(storyOf(exchange({ request: { range: 'bytes=10-' }, status: 200 }), english).tone, 'warn');
    assert.equal(storyOf(exchange({ method: 'PATCH', status: 204, response: { 'upload-offset': '65536' } }), english).serverOffset, 65536);
    assert.equal(storyOf(exchange({ error: 'ERR_NETWORK' }), english).outcome, 'no response: ERR_NETWORK');
  });

  it('the model ends with how the finished file was verified, and gives the limit line', () => {
    const finished = segmented([MiB, MiB, MiB, MiB], 'completed');
    const done: TransferSnapshot = { record: { ...(finished.record as DownloadRecord), sha256: 'ab'.repeat(32), maxBytesPerSecond: 2 * MiB } };
    const model = detailsModel({ snapshot: done, exchanges: [exchange({ status: 200 })], droppedRequests: 0, samples: [], active: new Set(), notes: [], globalLimit: 0, now: T0 + 5 }, english);
    assert.equal(model.story.at(-1)?.kind, 'verify');
    assert.match(model.story.at(-1)?.title ?? '', /^Verified: 4\.0 MiB, sha256 (ab)+ as expected\.$/);
    assert.equal(model.speed.limit, 2 * MiB);
    assert.equal(model.strings.limit, 'limit 2.0 MiB/s');
  });
});

describe('request logs stay bounded', () => {
  it('a log keeps its last entries and counts the ones it let go', () => {
    const log = new ExchangeLog(3);
    for (let i = 0; i < 10; i++) log.append(exchange({ at: i }));
    assert.deepEqual(log.list().map((e) => e.at), [7, 8, 9]);
    assert.equal(log.dropped, 7);
  });

  it('the registry keeps the logs of the transfers touched last', () => {
    const logs = new ExchangeLogs(2, 10);
    logs.forTransfer('a');
    logs.forTransfer('b');
    logs.forTransfer('a');
    logs.forTransfer('c');
    assert.ok(logs.get('a') && logs.get('c'));
    assert.equal(logs.get('b'), undefined);
  });
});
