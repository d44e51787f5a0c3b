/** What download and upload scenarios share: running the CLI under a time bound, judging its exit, reading records. */
import { startCli, type CliResult } from '../support/cli';

/** What one scenario found and did. */
export interface ScenarioOutcome {
  violations: string[];
  /** Tags of what actually happened (faults the server applied, kill phases hit, ...), for the summary. */
  covered: string[];
  /** CLI runs it took. */
  runs: number;
}

export class Findings implements ScenarioOutcome {
  readonly violations: string[] = [];
  readonly covered: string[] = [];
  runs = 0;

  violation(step: number, message: string): void {
    this.violations.push(`step ${step}: ${message}`);
  }
  cover(tag: string): void {
    this.covered.push(tag);
  }
}

export interface StepRun {
  result: CliResult;
  /** True when the soak killed it on plan (not on the time bound). */
  killedOnPlan: boolean;
  timedOut: boolean;
  elapsedMs: number;
  kill(): void;
}

/**
 * Starts the CLI; `arm` receives a kill function to call at the planned byte or moment. The run
 * is killed, and reported, when it outlives `boundMs`.
 */
export async function runCliStep(args: string[], boundMs: number, arm: (kill: () => void) => () => void): Promise<StepRun> {
  const started = Date.now();
  const { child, result } = startCli(args);
  let killedOnPlan = false;
  let timedOut = false;
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null && !killedOnPlan) {
      killedOnPlan = true;
      child.kill('SIGKILL');
    }
  };
  const disarm = arm(kill);
  const bound = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, boundMs);
  const done = await result;
  clearTimeout(bound);
  disarm();
  return { result: done, killedOnPlan: killedOnPlan && done.signal === 'SIGKILL', timedOut, elapsedMs: Date.now() - started, kill };
}

const CODED_ERROR = /^error (ERR_[A-Z0-9_]+): /;

/** Judges how a run ended: on plan, success, or one clean coded error line. Returns the error code, if any. */
export function judgeExit(findings: Findings, step: number, run: StepRun, boundMs: number): string | undefined {
  const { result } = run;
  if (run.timedOut) {
    findings.violation(step, `did not end within ${Math.round(boundMs / 1000)} s; stderr: ${lastLine(result.stderr)}`);
    return undefined;
  }
  if (run.killedOnPlan) return undefined;
  if (result.code === 0) return undefined;
  const line = lastLine(result.stderr);
  const coded = CODED_ERROR.exec(line);
  if (result.code !== 1 || !coded) {
    findings.violation(step, `ended without a clean coded error (exit ${result.code ?? result.signal}): ${line}`);
    return undefined;
  }
  findings.cover(`error:${coded[1]}`);
  return coded[1];
}

export function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}
