/**
 * The chaos soak: runs seeded scenarios (scenario i of seed S is planned from seed S + i) a few at
 * a time, and reports every violation with a one-line command that replays its scenario.
 */
import { apacheAvailable, startApache, type ApacheServer } from '../support/apache';
import { startTusServer, type TusTestServer } from '../support/tus-server';
import type { ScenarioOutcome } from './common';
import { runDownloadScenario, type DownloadChecks } from './download';
import { DEFAULT_LIMITS, describeScenario, planScenario, type PlanLimits, type Scenario } from './scenario';
import { runUploadScenario, type UploadServers } from './upload';

export interface SoakOptions {
  seed: number;
  scenarios: number;
  /** Scenarios run side by side. */
  concurrency: number;
  /** Start no new scenario after this long (ms); undefined = no bound. */
  timeBoundMs?: number;
  limits: PlanLimits;
  checks?: DownloadChecks;
  /** Called as each scenario ends. */
  onResult?(result: ScenarioResult): void;
}

export interface ScenarioResult extends ScenarioOutcome {
  index: number;
  scenario: Scenario;
  elapsedMs: number;
  /** The command that replays this scenario alone. */
  replay: string;
}

export interface SoakReport {
  results: ScenarioResult[];
  /** Scenarios planned but not started because the time bound was reached. */
  skipped: number;
  wallMs: number;
  /** How often each fault, kill phase and outcome happened. */
  coverage: Map<string, number>;
}

/** The command line that replays scenario `seed` with the same plan limits. */
export function replayCommand(seed: number, limits: PlanLimits): string {
  const extra: string[] = [];
  if (limits.maxSize !== DEFAULT_LIMITS.maxSize) extra.push(`--max-size ${limits.maxSize}`);
  if (limits.uploadShare !== DEFAULT_LIMITS.uploadShare) extra.push(`--upload-share ${limits.uploadShare}`);
  if (limits.apache !== DEFAULT_LIMITS.apache) extra.push('--no-apache');
  return ['npm run soak -- --seed', String(seed), '--scenarios 1', ...extra].join(' ');
}

/** Starts each shared upload server on first use. */
function lazyServers(): UploadServers & { close(): Promise<void> } {
  let tus: Promise<TusTestServer> | undefined;
  let apache: Promise<ApacheServer> | undefined;
  return {
    tus: () => (tus ??= startTusServer()),
    apache: () => (apache ??= startApache()),
    async close() {
      await Promise.all([tus?.then((s) => s.close()), apache?.then((s) => s.stop())]);
    },
  };
}

export function defaultLimits(overrides: Partial<PlanLimits> = {}): PlanLimits {
  return { ...DEFAULT_LIMITS, apache: apacheAvailable(), ...overrides };
}

async function runOne(scenario: Scenario, servers: UploadServers, checks?: DownloadChecks): Promise<ScenarioOutcome> {
  try {
    return scenario.kind === 'download' ? await runDownloadScenario(scenario, checks) : await runUploadScenario(scenario, servers);
  } catch (error) {
    return { violations: [`the soak itself failed: ${(error as Error).stack ?? String(error)}`], covered: [], runs: 0 };
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const servers = lazyServers();
  const results: ScenarioResult[] = [];
  let next = 0;
  let skipped = 0;
  const lane = async () => {
    for (;;) {
      const index = next++;
      if (index >= options.scenarios) return;
      if (options.timeBoundMs !== undefined && Date.now() - started > options.timeBoundMs) {
        skipped += 1;
        continue;
      }
      const seed = (options.seed + index) >>> 0;
      const scenario = planScenario(seed, options.limits);
      const begun = Date.now();
      const outcome = await runOne(scenario, servers, options.checks);
      const result: ScenarioResult = { ...outcome, index, scenario, elapsedMs: Date.now() - begun, replay: replayCommand(seed, options.limits) };
      results.push(result);
      options.onResult?.(result);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, lane));
  } finally {
    await servers.close();
  }
  results.sort((a, b) => a.index - b.index);
  const coverage = new Map<string, number>();
  for (const result of results) for (const tag of result.covered) coverage.set(tag, (coverage.get(tag) ?? 0) + 1);
  return { results, skipped, wallMs: Date.now() - started, coverage };
}

/** A failure report: what the scenario was, what broke, and how to see it again. */
export function describeFailure(result: ScenarioResult): string {
  return [
    `scenario seed ${result.scenario.seed}: ${describeScenario(result.scenario)}`,
    ...result.violations.map((v) => `  violation: ${v}`),
    `  replay: ${result.replay}`,
  ].join('\n');
}
