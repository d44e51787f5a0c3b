/**
 * Scenario plans: pure functions of a seed, so that `--seed S --scenarios 1` replays the plan of
 * scenario S exactly (the timing of a real machine still varies; the plan does not).
 */
import { Rng } from './random';

const KiB = 1024;
const MiB = 1024 * KiB;

/** When the soak SIGKILLs the client during a step. */
export type KillPlan =
  /** When the server has sent this many body bytes in this step. */
  | { at: 'byte'; byte: number }
  /** This long after the client started. */
  | { at: 'moment'; ms: number }
  /** This long into the silence of a stalled response (the step has a stall fault). */
  | { at: 'stall'; afterMs: number }
  /** This long after the server sent what was missing: aims at the checks and the final rename. */
  | { at: 'finish'; afterMs: number };

/** Transient misbehaviour of the server during one step (fault-server options). */
export interface DownloadFaults {
  dropAfter?: { bytes: number; times: number };
  stallAfter?: { bytes: number; ms: number; times: number };
  shortBody?: { missing: number; times: number };
  failWith?: { status: number; retryAfter?: string; times: number };
  status200OnRange?: { times: number };
  wrongContentRange?: { shift: number; times: number };
  wrongTotal?: { times: number };
}

/** The file on the server is replaced once this step has sent `atByte` body bytes. */
export interface Replacement {
  atByte: number;
  /** Keep the ETag (a broken server); the new size then differs, or nothing could tell. */
  sameEtag: boolean;
  size: number;
}

export interface DownloadStep {
  faults: DownloadFaults;
  kill?: KillPlan;
  replace?: Replacement;
  /** --stall-timeout for this run (a kill during a stall needs a silence longer than a second). */
  stallTimeoutSeconds: number;
}

export interface DownloadScenario {
  kind: 'download';
  seed: number;
  size: number;
  etag: 'strong' | 'weak' | 'none';
  lastModified: boolean;
  connections: number;
  /** How the server answers bounded ranges, for the whole scenario (what the server is). */
  boundedRanges: 'honour' | 'open-ended' | 'full';
  /** `-o folder` (name from the server) instead of `-o folder/name`. */
  outputToFolder: boolean;
  /** Chaos steps, then one step without faults or kills; the scenario stops at the first success. */
  steps: DownloadStep[];
}

export interface UploadStep {
  /** Kill once the server side received this many bytes in this step, or at a moment. */
  kill?: { at: 'byte'; byte: number } | { at: 'moment'; ms: number };
}

export interface UploadScenario {
  kind: 'upload';
  seed: number;
  server: 'tus' | 'apache';
  size: number;
  /** --chunk-size; undefined = the protocol's default. */
  chunkSize?: number;
  /** Client → server rate of the throttle proxy, so kills land mid-request. */
  bytesPerSecond: number;
  steps: UploadStep[];
}

export type Scenario = DownloadScenario | UploadScenario;

export interface PlanLimits {
  /** Largest file a scenario may use (the CI slice keeps it small). */
  maxSize: number;
  /** Share of upload scenarios, 0..1. */
  uploadShare: number;
  /** Whether an Apache with mod_dav can be started here. */
  apache: boolean;
}

export const DEFAULT_LIMITS: PlanLimits = { maxSize: 256 * MiB, uploadShare: 0.2, apache: true };

/** Sizes biased toward small for speed, with a few big ones. */
function drawSize(rng: Rng, maxSize: number): number {
  const band = rng.weighted({ empty: 3, tiny: 20, small: 45, medium: 24, large: 6, huge: 2 });
  const size = {
    empty: () => 0,
    tiny: () => rng.int(1, 64 * KiB),
    small: () => rng.int(64 * KiB, 2 * MiB),
    medium: () => rng.int(2 * MiB, 16 * MiB),
    large: () => rng.int(16 * MiB, 64 * MiB),
    huge: () => rng.int(64 * MiB, 256 * MiB),
  }[band]();
  return Math.min(size, maxSize);
}

const OVERLAP_BYTES = 16 * KiB;

function drawFaults(rng: Rng, size: number, resume: boolean): DownloadFaults {
  const faults: DownloadFaults = {};
  const count = rng.weighted({ 0: 2, 1: 5, 2: 3 });
  const at = () => rng.int(0, Math.max(0, size - 1));
  for (let i = 0; i < Number(count); i++) {
    const kind = rng.weighted({ drop: 4, stall: 2, short: 3, unavailable: 3, full: 2, wrongRange: 2, wrongTotal: 1 });
    const times = rng.int(1, 2);
    if (kind === 'drop') faults.dropAfter = { bytes: at(), times };
    if (kind === 'stall') faults.stallAfter = { bytes: at(), ms: rng.int(1300, 2200), times: 1 };
    if (kind === 'short') faults.shortBody = { missing: rng.int(1, Math.max(1, Math.floor(size / 2))), times };
    if (kind === 'unavailable') faults.failWith = { status: 503, retryAfter: rng.pick(['0', '1']), times };
    // Range faults only mean something once there is a part file to resume or several connections.
    if (kind === 'full' && resume) faults.status200OnRange = { times: 1 };
    if (kind === 'wrongRange' && resume) faults.wrongContentRange = { shift: rng.pick([-1, 1, 512]), times: 1 };
    if (kind === 'wrongTotal' && resume) faults.wrongTotal = { times: 1 };
  }
  return faults;
}

function drawDownloadStep(rng: Rng, scenario: DownloadScenario, index: number): DownloadStep {
  const { size } = scenario;
  const step: DownloadStep = { faults: drawFaults(rng, size, index > 0 || scenario.connections > 1), stallTimeoutSeconds: 1 };
  const overlapChecked = scenario.etag !== 'strong' && !scenario.lastModified;
  const kill = rng.weighted({ none: 25, byte: 30, moment: 10, stall: 15, finish: 15, overlap: overlapChecked && index > 0 ? 10 : 0 });
  if (kill === 'byte') step.kill = { at: 'byte', byte: rng.int(1, Math.max(1, size)) };
  if (kill === 'moment') step.kill = { at: 'moment', ms: rng.int(0, 1500) };
  if (kill === 'finish') step.kill = { at: 'finish', afterMs: rng.int(0, 40) };
  if (kill === 'stall' || kill === 'overlap') {
    // A silence longer than a second, with the client's stall timeout beyond it: the record must
    // already hold what arrived before the silence (saved within about a second, data or not).
    const bytes = kill === 'overlap' ? rng.int(0, OVERLAP_BYTES - 1) : rng.int(0, Math.max(0, size - 1));
    step.faults.stallAfter = { bytes, ms: 4000, times: 1 };
    step.stallTimeoutSeconds = 5;
    step.kill = { at: 'stall', afterMs: rng.int(1500, 3200) };
  }
  if (rng.chance(0.12)) {
    const sameEtag = scenario.etag !== 'none' && rng.chance(0.5);
    let newSize = drawSize(rng, Math.max(1, size * 2));
    if (sameEtag && newSize === size) newSize = size + rng.int(1, 4096);
    step.replace = { atByte: rng.int(0, Math.max(0, size - 1)), sameEtag, size: newSize };
  }
  return step;
}

function planDownload(rng: Rng, seed: number, limits: PlanLimits): DownloadScenario {
  const scenario: DownloadScenario = {
    kind: 'download',
    seed,
    size: drawSize(rng, limits.maxSize),
    etag: rng.weighted({ strong: 5, weak: 2, none: 3 }),
    lastModified: rng.chance(0.5),
    connections: rng.chance(0.4) ? 1 : rng.int(2, 8),
    boundedRanges: rng.weighted({ honour: 8, 'open-ended': 1, full: 1 }),
    outputToFolder: rng.chance(0.3),
    steps: [],
  };
  const chaos = rng.int(1, 3);
  for (let i = 0; i < chaos; i++) scenario.steps.push(drawDownloadStep(rng, scenario, i));
  scenario.steps.push({ faults: {}, stallTimeoutSeconds: 5 });
  return scenario;
}

function planUpload(rng: Rng, seed: number, limits: PlanLimits): UploadScenario {
  const server = limits.apache && rng.chance(0.5) ? 'apache' : 'tus';
  const size = Math.max(1, drawSize(rng, Math.min(limits.maxSize, 64 * MiB)));
  const chunkSize = rng.chance(0.5) ? rng.int(64 * KiB, Math.max(64 * KiB, Math.ceil(size / 2))) : undefined;
  // About 0.4 to 1.5 s of sending per run, so that a kill lands mid-request.
  const bytesPerSecond = Math.max(256 * KiB, Math.round(size / (rng.int(400, 1500) / 1000)));
  const steps: UploadStep[] = [];
  const chaos = rng.int(1, 3);
  for (let i = 0; i < chaos; i++) {
    const kill = rng.weighted({ none: 1, byte: 6, moment: 3 });
    if (kill === 'byte') steps.push({ kill: { at: 'byte', byte: rng.int(1, size) } });
    else if (kill === 'moment') steps.push({ kill: { at: 'moment', ms: rng.int(0, 1200) } });
    else steps.push({});
  }
  steps.push({});
  return { kind: 'upload', seed, server, size, chunkSize, bytesPerSecond, steps };
}

export function planScenario(seed: number, limits: PlanLimits = DEFAULT_LIMITS): Scenario {
  const rng = new Rng(seed);
  return rng.chance(limits.uploadShare) ? planUpload(rng, seed, limits) : planDownload(rng, seed, limits);
}

/** One line a person can read in a failure report. */
export function describeScenario(scenario: Scenario): string {
  if (scenario.kind === 'upload') {
    return `upload ${scenario.size} B to ${scenario.server}${scenario.chunkSize ? ` in ${scenario.chunkSize} B chunks` : ''}, steps ${JSON.stringify(scenario.steps)}`;
  }
  const validators = [scenario.etag !== 'none' ? `${scenario.etag} ETag` : '', scenario.lastModified ? 'Last-Modified' : ''].filter(Boolean).join(' + ') || 'no validators';
  return (
    `download ${scenario.size} B, ${validators}, ${scenario.connections} connection(s), bounded ranges ${scenario.boundedRanges}, ` +
    `steps ${JSON.stringify(scenario.steps)}`
  );
}
