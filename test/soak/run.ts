/**
 * `npm run soak -- [--seed S] [--scenarios N] [--time-bound SECONDS] [--concurrency C]
 * [--max-size BYTES] [--upload-share 0..1] [--no-apache]`: the chaos soak from the command line.
 * Prints one line per scenario, every failure with its replay command, then the coverage and an
 * "N passed, N failed" summary; exits 1 when any invariant was violated.
 */
import { parseArgs } from 'node:util';
import { assertBuilt } from '../support/cli';
import { defaultLimits, describeFailure, runSoak } from './soak';

function number(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} must be a non-negative number`);
  return parsed;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      scenarios: { type: 'string' },
      'time-bound': { type: 'string' },
      concurrency: { type: 'string' },
      'max-size': { type: 'string' },
      'upload-share': { type: 'string' },
      'no-apache': { type: 'boolean' },
    },
  });
  assertBuilt();
  const seed = number(values.seed, '--seed', Math.floor(Math.random() * 2 ** 31)) >>> 0;
  const scenarios = number(values.scenarios, '--scenarios', 200);
  const timeBound = values['time-bound'] === undefined ? undefined : number(values['time-bound'], '--time-bound', 0) * 1000;
  const limits = defaultLimits({
    ...(values['max-size'] !== undefined ? { maxSize: number(values['max-size'], '--max-size', 0) } : {}),
    ...(values['upload-share'] !== undefined ? { uploadShare: number(values['upload-share'], '--upload-share', 0) } : {}),
    ...(values['no-apache'] ? { apache: false } : {}),
  });
  console.log(`soak: seed ${seed}, ${scenarios} scenario(s)${timeBound ? `, no new scenario after ${timeBound / 1000} s` : ''}${limits.apache ? '' : ', no Apache'}`);
  const report = await runSoak({
    seed,
    scenarios,
    concurrency: number(values.concurrency, '--concurrency', 2),
    timeBoundMs: timeBound,
    limits,
    onResult(result) {
      const mark = result.violations.length === 0 ? 'ok  ' : 'FAIL';
      console.log(`${mark} #${result.index} seed ${result.scenario.seed} ${result.scenario.kind} ${result.scenario.size} B, ${result.runs} run(s), ${(result.elapsedMs / 1000).toFixed(1)} s`);
      if (result.violations.length > 0) console.log(describeFailure(result));
    },
  });
  const failed = report.results.filter((r) => r.violations.length > 0);
  console.log('\ncoverage:');
  for (const [tag, count] of [...report.coverage].sort(([a], [b]) => a.localeCompare(b))) console.log(`  ${tag}: ${count}`);
  if (failed.length > 0) {
    console.log('\nfailures:');
    for (const result of failed) console.log(describeFailure(result));
  }
  console.log(
    `\nsoak: seed ${seed}: ${report.results.length - failed.length} passed, ${failed.length} failed` +
      `${report.skipped ? `, ${report.skipped} not started (time bound)` : ''} in ${(report.wallMs / 1000).toFixed(1)} s`,
  );
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  },
);
