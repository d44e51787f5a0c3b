/**
 * The CI slice of the chaos soak: a fixed seed's scenarios, small files, a few at a time, one
 * mocha test per scenario so that CI counts them. SOAK_SEED and SOAK_SCENARIOS override the slice;
 * a failure names the command that replays its scenario alone.
 */
import assert from 'node:assert/strict';
import { assertBuilt } from '../support/cli';
import { planScenario } from './scenario';
import { defaultLimits, describeFailure, runSoak, type ScenarioResult } from './soak';

const MiB = 1024 * 1024;
const SEED = Number(process.env.SOAK_SEED ?? 8_000);
const SCENARIOS = Number(process.env.SOAK_SCENARIOS ?? 120);
/** No new scenario after this long, so the slice stays within its four minutes on a busy machine. */
const TIME_BOUND_MS = 200_000;
const limits = defaultLimits({ maxSize: 8 * MiB });

describe(`chaos soak: ${SCENARIOS} scenarios from seed ${SEED}`, function () {
  this.timeout(TIME_BOUND_MS + 120_000);
  const results = new Map<number, ScenarioResult>();

  before(async function () {
    assertBuilt();
    const report = await runSoak({
      seed: SEED,
      scenarios: SCENARIOS,
      concurrency: 3,
      timeBoundMs: TIME_BOUND_MS,
      limits,
    });
    for (const result of report.results) results.set(result.scenario.seed, result);
    const covered = [...report.coverage].map(([tag, count]) => `${tag} ${count}`).join(', ');
    console.log(`      ${report.results.length} scenarios in ${(report.wallMs / 1000).toFixed(1)} s; covered: ${covered}`);
  });

  for (let i = 0; i < SCENARIOS; i++) {
    const seed = SEED + i;
    const scenario = planScenario(seed, limits);
    const title = scenario.kind === 'download' ? `download of ${scenario.size} B over ${scenario.connections} connection(s)` : `upload of ${scenario.size} B to ${scenario.server}`;
    it(`seed ${seed}: ${title}`, function () {
      const result = results.get(seed);
      if (!result) this.skip();
      assert.deepEqual(result.violations, [], describeFailure(result));
    });
  }
});
