import * as assert from 'node:assert/strict';
import { formatBytes, formatDuration, formatPercent, formatSpeed } from '../../src/core/format';
import { SpeedMeter, etaSeconds } from '../../src/core/speed';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

describe('SpeedMeter', () => {
  it('is 0 without samples and with a single sample', () => {
    const meter = new SpeedMeter();
    assert.equal(meter.bytesPerSecond(0), 0);
    meter.add(0, 0);
    assert.equal(meter.bytesPerSecond(1_000), 0);
  });

  it('measures bytes per second between samples', () => {
    const meter = new SpeedMeter();
    meter.add(0, 0);
    meter.add(1_000, 1_000);
    assert.equal(meter.bytesPerSecond(1_000), 1_000);
    meter.add(2_000, 5_000);
    assert.equal(meter.bytesPerSecond(2_000), 2_500);
  });

  it('counts bytes from the first sample, not from zero', () => {
    const meter = new SpeedMeter();
    meter.add(10_000, 1_000_000); // a resumed download starts far into the file
    meter.add(12_000, 1_004_000);
    assert.equal(meter.bytesPerSecond(12_000), 2_000);
  });

  it('falls towards zero while a transfer stalls', () => {
    const meter = new SpeedMeter();
    meter.add(0, 0);
    meter.add(1_000, 1_000);
    const readings = [1_000, 2_000, 4_000, 10_000].map((now) => meter.bytesPerSecond(now));
    assert.deepEqual(readings, [1_000, 500, 250, 100]);
  });

  it('a clock reading before the last sample does not inflate the speed', () => {
    const meter = new SpeedMeter();
    meter.add(0, 0);
    meter.add(1_000, 1_000);
    assert.equal(meter.bytesPerSecond(500), 1_000);
  });

  it('merges samples less than 100 ms apart into the previous one', () => {
    const meter = new SpeedMeter();
    meter.add(0, 0);
    meter.add(1_000, 1_000);
    meter.add(1_050, 1_500); // updates the sample at 1000 ms
    assert.equal(meter.bytesPerSecond(1_000), 1_500);
    meter.add(1_099, 2_000);
    assert.equal(meter.bytesPerSecond(1_000), 2_000);
    meter.add(1_100, 2_100); // 100 ms later: a new sample
    assert.equal(meter.bytesPerSecond(1_100), (2_100 * 1_000) / 1_100);
  });

  it('follows a change of speed within the window', () => {
    const meter = new SpeedMeter(5_000);
    let bytes = 0;
    for (let t = 0; t <= 20_000; t += 1_000) {
      meter.add(t, bytes);
      bytes += 1_000;
    }
    assert.equal(meter.bytesPerSecond(20_000), 1_000);
    bytes -= 1_000;
    for (let t = 21_000; t <= 25_000; t += 1_000) {
      bytes += 10_000;
      meter.add(t, bytes);
    }
    // Only the last 5 s count: all of them at 10 000 B/s.
    assert.equal(meter.bytesPerSecond(25_000), 10_000);
  });

  it('keeps at most maxSamples samples', () => {
    const meter = new SpeedMeter(60_000, 4);
    // Stalled for 6 s, then 1000 B/s.
    for (let t = 0; t <= 5_000; t += 1_000) meter.add(t, 0);
    for (let t = 6_000; t <= 9_000; t += 1_000) meter.add(t, (t - 5_000));
    // Samples at 6, 7, 8, 9 s remain; the stalled start has been dropped.
    assert.equal(meter.bytesPerSecond(9_000), 1_000);
  });

  it('keeps two samples even after a long gap', () => {
    const meter = new SpeedMeter(1_000);
    meter.add(0, 0);
    meter.add(60_000, 60_000);
    assert.equal(meter.bytesPerSecond(60_000), 1_000);
  });

  it('reset forgets all samples', () => {
    const meter = new SpeedMeter();
    meter.add(0, 0);
    meter.add(1_000, 1_000);
    meter.reset();
    assert.equal(meter.bytesPerSecond(1_000), 0);
    meter.add(2_000, 5_000);
    meter.add(3_000, 6_000);
    assert.equal(meter.bytesPerSecond(3_000), 1_000);
  });
});

describe('etaSeconds', () => {
  const cases: Array<{ remaining: number | undefined; speed: number; expected: number | undefined }> = [
    { remaining: 1_000, speed: 100, expected: 10 },
    { remaining: 1_000, speed: 300, expected: 4 }, // 3.33 rounds up
    { remaining: 1, speed: 1_000_000, expected: 1 },
    { remaining: 0, speed: 100, expected: 0 },
    { remaining: 10 * GiB, speed: MiB, expected: 10_240 },
    { remaining: undefined, speed: 100, expected: undefined },
    { remaining: 1_000, speed: 0, expected: undefined },
    { remaining: 1_000, speed: -5, expected: undefined },
  ];
  for (const { remaining, speed, expected } of cases) {
    it(`${String(remaining)} bytes at ${speed} B/s → ${String(expected)}`, () => {
      assert.equal(etaSeconds(remaining, speed), expected);
    });
  }
});

describe('formatBytes', () => {
  const cases: Array<[number, string]> = [
    [0, '0 B'],
    [1, '1 B'],
    [999, '999 B'],
    [1_023, '1023 B'],
    [KiB, '1.0 KiB'],
    [1_536, '1.5 KiB'],
    [10 * KiB, '10.0 KiB'],
    [102_297, '99.9 KiB'],
    [100 * KiB, '100 KiB'],
    [1_023 * KiB, '1023 KiB'],
    [MiB, '1.0 MiB'],
    [5.5 * MiB, '5.5 MiB'],
    [700 * MiB, '700 MiB'],
    [GiB, '1.0 GiB'],
    [4.7 * GiB, '4.7 GiB'],
    [TiB, '1.0 TiB'],
    [2_048 * TiB, '2048 TiB'],
    // Rounding must not produce a value the next unit should show
    [MiB - 1, '1.0 MiB'],
    [102_349, '100 KiB'],
  ];
  for (const [bytes, expected] of cases) {
    it(`${bytes} → ${expected}`, () => {
      assert.equal(formatBytes(bytes), expected);
    });
  }
});

describe('formatSpeed', () => {
  const cases: Array<[number, string]> = [
    [0, '0 B/s'],
    [512.4, '512 B/s'],
    [512.6, '513 B/s'],
    [1_536, '1.5 KiB/s'],
    [2.5 * MiB, '2.5 MiB/s'],
  ];
  for (const [speed, expected] of cases) {
    it(`${speed} → ${expected}`, () => {
      assert.equal(formatSpeed(speed), expected);
    });
  }
});

describe('formatDuration', () => {
  const cases: Array<[number, string]> = [
    [0, '0:00'],
    [5, '0:05'],
    [59, '0:59'],
    [60, '1:00'],
    [61, '1:01'],
    [599, '9:59'],
    [600, '10:00'],
    [3_599, '59:59'],
    [3_600, '1:00:00'],
    [3_661, '1:01:01'],
    [36_000, '10:00:00'],
    [86_399, '23:59:59'],
    [90_000, '25:00:00'],
    [59.4, '0:59'],
    [59.5, '1:00'],
    [-5, '0:00'],
  ];
  for (const [seconds, expected] of cases) {
    it(`${seconds} s → ${expected}`, () => {
      assert.equal(formatDuration(seconds), expected);
    });
  }
});

describe('formatPercent', () => {
  const cases: Array<[number, number | undefined, string | undefined]> = [
    [0, 100, '0%'],
    [50, 100, '50%'],
    [1, 3, '33%'],
    [2, 3, '66%'],
    [999, 1_000, '99%'], // never shows 100% before the end
    [1_000, 1_000, '100%'],
    [29, 100, '29%'],
    [7, 100, '7%'],
    [0, undefined, undefined],
    [10, 0, undefined],
  ];
  for (const [bytes, length, expected] of cases) {
    it(`${bytes} of ${String(length)} → ${String(expected)}`, () => {
      assert.equal(formatPercent(bytes, length), expected);
    });
  }

  it('every whole percentage of 100 bytes is shown exactly', () => {
    const wrong: string[] = [];
    for (let bytes = 0; bytes <= 100; bytes++) {
      const shown = formatPercent(bytes, 100);
      if (shown !== `${bytes}%`) wrong.push(`${bytes} → ${String(shown)}`);
    }
    assert.deepEqual(wrong, []);
  });
});
