/**
 * Scenarios of the chaos soak (test/soak) that once found a bug, replayed on every run. Each is
 * the scenario `npm run soak -- --seed <seed> --scenarios 1 --max-size <maxSize>` runs, with all
 * of the soak's invariants checked after every run of the CLI.
 */
import assert from 'node:assert/strict';
import { assertBuilt } from '../support/cli';
import { defaultLimits, describeFailure, runSoak } from '../soak/soak';

const MiB = 1024 * 1024;

const FOUND: { seed: number; maxSize: number; bug: string }[] = [
  {
    seed: 2008,
    maxSize: 16 * MiB,
    bug: 'killed 3 s into a stall, the record still said 64 KiB of the 0.9 MiB that had arrived before it',
  },
  {
    seed: 3069,
    maxSize: 8 * MiB,
    bug: 'killed during a stall twice in a row, each time the record had lost what arrived before the silence',
  },
  {
    seed: 1009,
    maxSize: 4 * MiB,
    bug: 'a split download against a server that answers bounded ranges with the rest of the file failed for good with ERR_RANGE_MISMATCH',
  },
  {
    seed: 3078,
    maxSize: 8 * MiB,
    bug: 'a split download against a server that refuses bounded ranges failed for good with ERR_RANGE_MISMATCH',
  },
  {
    seed: 8106,
    maxSize: 8 * MiB,
    bug: 'killed right after the last byte of a 4-connection download, the next run counted the sparse part file as written from byte 0 and finished a file with holes',
  },
  {
    seed: 8122,
    maxSize: 8 * MiB,
    bug: 'the same after a wrong Content-Range: the record claimed bytes that were holes on disk',
  },
  {
    seed: 8016,
    maxSize: 8 * MiB,
    bug: 'after a wrong Content-Range, one connection asked open-ended ranges for segments in the middle and the server sent the rest of the file for each (3.6 × the size)',
  },
  {
    seed: 100396,
    maxSize: 16 * MiB,
    bug: 'one 200 to a bounded range made one connection ask every unfinished segment open-ended in turn: the rest of the file was sent for each (34 MB moved for 9.3 MB)',
  },
  {
    seed: 424287,
    maxSize: 16 * MiB,
    bug: 'the same with 8 connections: 23 MB moved for a 5.8 MB file',
  },
  {
    seed: 100125,
    maxSize: 16 * MiB,
    bug: 'killed after it reserved the name, before its record named the file: the re-run wrote "name (1).bin" and left the empty part file and a claim temporary file behind',
  },
];

describe('chaos soak: seeds that found bugs', function () {
  this.timeout(90_000);
  before(assertBuilt);

  for (const { seed, maxSize, bug } of FOUND) {
    it(`seed ${seed}: ${bug}`, async () => {
      const report = await runSoak({ seed, scenarios: 1, concurrency: 1, limits: defaultLimits({ maxSize }) });
      const [result] = report.results;
      assert.deepEqual(result.violations, [], describeFailure(result));
    });
  }
});
