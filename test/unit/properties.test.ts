/**
 * Property-based tests (fast-check) for everything that parses what a server or a person sends:
 * the inputs a hostile server picks are the ones a table of examples forgets. Each property runs
 * a fixed number of generated cases with a fixed seed, so a failure reproduces; fast-check prints
 * the shrunk counterexample.
 */
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { isAutoLoadedName } from '../../src/core/auto-loaded-names';
import { parseContentDispositionFilename } from '../../src/core/http/content-disposition';
import { parseHeaderLine } from '../../src/core/http/header-line';
import { formatRange, parseContentRange, parseUnsatisfiedRange } from '../../src/core/http/range';
import { pickServerFilename, resolveInside, sanitizeFilename } from '../../src/core/filename';
import { TRANSFER_STATES, validateRecord, type DownloadRecord, type TransferRecord } from '../../src/core/state/record';

const RUNS = { numRuns: 2000, seed: 20261201 };
const DIR = path.join(os.tmpdir(), 'resumable-transfers-properties');

/** Strings a hostile server might put in a header: any code points, separators, dots, quotes, escapes. */
const hostileText = fc.oneof(
  fc.string({ maxLength: 300, unit: 'binary' }),
  fc.string({ maxLength: 60, unit: fc.constantFrom('.', '/', '\\', '%', '"', "'", ';', '=', '*', ' ', '\u0000', '\u202e', 'a', 'é', '测', ':') }),
);

const windowsReserved = /^(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

describe('properties: Content-Disposition and file names', () => {
  it('parsing any header never throws', () => {
    fc.assert(fc.property(hostileText, (header) => void parseContentDispositionFilename(header)), RUNS);
    fc.assert(fc.property(hostileText, (name) => void parseContentDispositionFilename(`attachment; filename*=UTF-8''${name}`)), RUNS);
  });

  it('a name the server chose is one plain file inside the folder, never a dotfile, an auto-loaded config or a device name', () => {
    const header = fc.oneof(
      hostileText.map((name) => `attachment; filename="${name}"`),
      hostileText.map((name) => `attachment; filename*=UTF-8''${encodeURIComponent(name)}`),
      fc.constantFrom('.npmrc', '.env', 'eslint.config.mjs', 'CONFTEST.PY', ' .env', '..', '../.bashrc', 'a/../../Makefile').map((n) => `attachment; filename="${n}"`),
    );
    const url = fc.oneof(fc.webUrl(), hostileText.map((p) => `https://e.test/${encodeURIComponent(p)}`));
    fc.assert(
      fc.property(header, url, (contentDisposition, serverUrl) => {
        const { name } = pickServerFilename({ contentDisposition, url: serverUrl, userUrl: 'https://user.test/typed' });
        assert.ok(name.length > 0);
        assert.ok(!/[/\\]/.test(name), `separator in ${JSON.stringify(name)}`);
        // eslint-disable-next-line no-control-regex -- control characters are what this checks for
        assert.ok(!/[\u0000-\u001f\u007f]/.test(name), `control character in ${JSON.stringify(name)}`);
        assert.ok(!isAutoLoadedName(name), `auto-loaded name ${JSON.stringify(name)}`);
        assert.ok(!windowsReserved.test(name.split('.')[0].replace(/ +$/, '')), `device name ${JSON.stringify(name)}`);
        assert.ok(Buffer.byteLength(name) <= 201, `too long: ${Buffer.byteLength(name)} bytes`);
        assert.equal(path.dirname(resolveInside(DIR, name)), path.resolve(DIR));
      }),
      RUNS,
    );
  });

  it('sanitizing is idempotent', () => {
    fc.assert(fc.property(hostileText, (raw) => {
      const once = sanitizeFilename(raw);
      assert.equal(sanitizeFilename(once), once);
    }), RUNS);
  });
});

describe('properties: Range and Content-Range', () => {
  const position = fc.oneof(fc.nat({ max: 1 << 20 }), fc.maxSafeNat());

  it('formatRange then reading it back gives the same range', () => {
    fc.assert(fc.property(position, fc.option(position, { nil: undefined }), (a, b) => {
      const end = b === undefined ? undefined : Math.max(a, b);
      const text = formatRange(a, end);
      const match = /^bytes=(\d+)-(\d*)$/.exec(text);
      assert.ok(match, text);
      assert.equal(Number(match[1]), a);
      assert.equal(match[2] === '' ? undefined : Number(match[2]), end);
    }), RUNS);
  });

  it('a Content-Range we would write parses back to the same numbers', () => {
    const below = fc.oneof(fc.nat({ max: 1 << 20 }), fc.nat({ max: Number.MAX_SAFE_INTEGER - 1 }));
    fc.assert(fc.property(below, below, fc.option(position, { nil: undefined }), (x, y, extra) => {
      const start = Math.min(x, y);
      const end = Math.max(x, y);
      const total = extra === undefined ? undefined : end + 1 + Math.min(extra, Number.MAX_SAFE_INTEGER - end - 1);
      const parsed = parseContentRange(`bytes ${start}-${end}/${total ?? '*'}`);
      assert.deepEqual(parsed, { start, end, total });
    }), RUNS);
  });

  it('any Content-Range header either is rejected or describes a sane range', () => {
    const numberText = fc.oneof(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String), fc.constantFrom('*', '', '-1', '1e3', '0x10', ' 5', '9007199254740993'));
    const header = fc.oneof(
      hostileText,
      fc.tuple(numberText, numberText, numberText).map(([a, b, c]) => `bytes ${a}-${b}/${c}`),
    );
    fc.assert(fc.property(header, (text) => {
      const parsed = parseContentRange(text);
      if (parsed === undefined) return;
      assert.ok(Number.isSafeInteger(parsed.start) && parsed.start >= 0);
      assert.ok(Number.isSafeInteger(parsed.end) && parsed.end >= parsed.start);
      if (parsed.total !== undefined) assert.ok(Number.isSafeInteger(parsed.total) && parsed.total > parsed.end);
      const unsatisfied = parseUnsatisfiedRange(text);
      if (unsatisfied !== undefined) assert.ok(Number.isSafeInteger(unsatisfied) && unsatisfied >= 0);
    }), RUNS);
  });
});

describe('properties: saved records', () => {
  const validDownload = fc
    .record({
      length: fc.option(fc.nat({ max: 1 << 30 }), { nil: undefined }),
      cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
      fill: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 9, maxLength: 9 }),
      state: fc.constantFrom(...TRANSFER_STATES),
    })
    .map(({ length, cuts, fill, state }): DownloadRecord => {
      const points = length === undefined ? [] : [...new Set(cuts.map((c) => Math.floor(c * length)))].filter((p) => p > 0 && p < length).sort((a, b) => a - b);
      const bounds: Array<number | undefined> = [0, ...points, length];
      const segments = bounds.slice(0, -1).map((from, i) => {
        const start = from as number;
        const end = bounds[i + 1];
        return { start, end, done: end === undefined ? Math.floor(fill[i] * 1000) : Math.floor(fill[i] * (end - start)) };
      });
      return { schemaVersion: 1, id: 'a1', kind: 'download', url: 'https://e.test/f.bin', targetDir: '/tmp', state, length, segments, createdAt: 1, updatedAt: 2 };
    });

  /** Every invariant the engine relies on when it trusts a record. */
  function assertInvariants(record: TransferRecord): void {
    assert.ok(TRANSFER_STATES.includes(record.state));
    assert.ok(typeof record.id === 'string' && record.id.length > 0);
    assert.ok(/^https?:$/.test(new URL(record.url).protocol));
    if (record.kind === 'upload') {
      assert.ok(record.offset <= record.length);
      return;
    }
    const { segments, length } = record;
    assert.ok(segments.length > 0);
    assert.equal(segments[0].start, 0, 'segments start at byte 0');
    for (const [i, segment] of segments.entries()) {
      assert.ok(Number.isSafeInteger(segment.done) && segment.done >= 0);
      if (i > 0) assert.equal(segment.start, segments[i - 1].end, 'segments tile the file without gaps');
      if (segment.end !== undefined) assert.ok(segment.start + segment.done <= segment.end);
      else assert.equal(i, segments.length - 1);
    }
    if (length !== undefined) {
      assert.equal(segments[segments.length - 1].end, length, 'the last segment ends at the length');
      assert.ok(segments.reduce((sum, s) => sum + s.done, 0) <= length);
    }
  }

  it('a record the engine wrote passes validation', () => {
    fc.assert(fc.property(validDownload, (record) => {
      const checked = validateRecord(record);
      assert.ok(checked.ok, checked.ok ? '' : checked.reason);
    }), RUNS);
  });

  it('random JSON is rejected or passes every invariant', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      const checked = validateRecord(value);
      if (checked.ok) assertInvariants(checked.value);
    }), RUNS);
  });

  it('a record with any field mutated is rejected or passes every invariant', () => {
    const mutation = fc.tuple(
      fc.constantFrom('length', 'segments', 'state', 'url', 'id', 'schemaVersion', 'kind', 'seg.start', 'seg.end', 'seg.done', 'drop-seg', 'add-seg'),
      fc.oneof(fc.jsonValue(), fc.integer({ min: -10, max: 1 << 30 }), fc.maxSafeNat()),
      fc.nat(),
    );
    fc.assert(fc.property(validDownload, mutation, (record, [field, value, index]) => {
      const raw = structuredClone(record) as unknown as Record<string, unknown> & { segments: Array<Record<string, unknown>> };
      const segment = raw.segments[index % raw.segments.length];
      if (field === 'seg.start') segment.start = value;
      else if (field === 'seg.end') segment.end = value;
      else if (field === 'seg.done') segment.done = value;
      else if (field === 'drop-seg') raw.segments.splice(index % raw.segments.length, 1);
      else if (field === 'add-seg') raw.segments.push({ start: value, end: value, done: 0 });
      else (raw as Record<string, unknown>)[field] = value;
      const checked = validateRecord(raw);
      if (checked.ok) assertInvariants(checked.value);
    }), RUNS);
  });
});

describe('properties: a header typed by a person', () => {
  const token = fc.string({ minLength: 1, maxLength: 20, unit: fc.constantFrom(...'!#$%&\'*+.^_`|~0123456789abcxyzABCXYZ-'.split('')) });
  const safeValue = fc.string({ maxLength: 80 }).filter((v) => !/[\r\n\0]/.test(v));

  it('"Name: value" reads back as the same name and trimmed value', () => {
    fc.assert(fc.property(token, safeValue, (name, value) => {
      const line = parseHeaderLine(`${name}: ${value}`);
      assert.deepEqual(line, { ok: true, name, value: value.trim() });
    }), RUNS);
  });

  it('anything is either refused or a token name with a value that cannot break the request', () => {
    fc.assert(fc.property(hostileText, (text) => {
      const line = parseHeaderLine(text);
      if (!line.ok) return;
      assert.match(line.name, /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);
      assert.ok(!/[\r\n\0]/.test(line.value));
    }), RUNS);
  });
});
