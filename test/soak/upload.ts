/**
 * One upload scenario: the CLI (`dist/cli.js put`) against a real @tus/server or Apache mod_dav,
 * through a throttling TCP proxy so that kills land mid-request, with the invariants checked after
 * every step.
 */
import { mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { UploadRecord } from '../../src/core';
import type { ApacheServer } from '../support/apache';
import { readRecordFiles } from '../support/cli';
import { randomBytesSeeded, sha256 } from '../support/fault-server';
import { startThrottleProxy, type ThrottleProxy } from '../support/throttle-proxy';
import type { TusTestServer } from '../support/tus-server';
import { Findings, judgeExit, runCliStep, type ScenarioOutcome } from './common';
import type { UploadScenario } from './scenario';

const KiB = 1024;

/** Real servers shared by the upload scenarios of one soak (each scenario uses its own resource). */
export interface UploadServers {
  tus(): Promise<TusTestServer>;
  apache(): Promise<ApacheServer>;
}

export async function runUploadScenario(scenario: UploadScenario, servers: UploadServers): Promise<ScenarioOutcome> {
  const findings = new Findings();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-soak-up-'));
  const tus = scenario.server === 'tus' ? await servers.tus() : undefined;
  const apache = scenario.server === 'apache' ? await servers.apache() : undefined;
  const targetPort = Number(new URL((tus ?? apache)!.origin).port);
  const proxy = await startThrottleProxy(targetPort, scenario.bytesPerSecond);
  try {
    await new UploadScenarioRun(scenario, dir, proxy, findings, tus, apache).run();
  } finally {
    await proxy.close();
    await rm(dir, { recursive: true, force: true });
  }
  return findings;
}

class UploadScenarioRun {
  private readonly source: string;
  private readonly body: Buffer;
  private readonly name: string;
  private allowance = 0;

  constructor(
    private readonly scenario: UploadScenario,
    private readonly dir: string,
    private readonly proxy: ThrottleProxy,
    private readonly findings: Findings,
    private readonly tus?: TusTestServer,
    private readonly apache?: ApacheServer,
  ) {
    this.source = path.join(dir, 'src.bin');
    this.body = randomBytesSeeded(scenario.size, scenario.seed);
    this.name = `up-${scenario.seed}-${process.pid}.bin`;
  }

  private get url(): string {
    return this.tus ? `${this.proxy.origin}/files/` : `${this.proxy.origin}/${this.name}`;
  }

  async run(): Promise<void> {
    const { scenario, findings } = this;
    findings.cover(`upload:${scenario.server}${scenario.chunkSize ? '+chunks' : ''}`);
    await writeFile(this.source, this.body);
    for (const [index, step] of scenario.steps.entries()) {
      const last = index === scenario.steps.length - 1;
      if (await this.runStep(index, step, last)) break;
    }
    const moved = this.proxy.uploadedBytes();
    const bound = 1.5 * scenario.size + this.allowance + findings.runs * 64 * KiB;
    if (moved > bound) {
      findings.violation(scenario.steps.length - 1, `sent ${moved} B for a ${scenario.size} B file: more than 1.5 × size plus ${this.allowance} B that kills cost`);
    }
  }

  private async runStep(index: number, step: UploadScenario['steps'][number], last: boolean): Promise<boolean> {
    const { scenario, findings } = this;
    const sentBefore = this.proxy.uploadedBytes();
    const args = ['put', this.source, this.url, '--protocol', this.tus ? 'tus' : 'put-range', '--stall-timeout', '5', '--retries', '5'];
    if (scenario.chunkSize) args.push('--chunk-size', String(scenario.chunkSize));
    const boundMs = 60_000 + (scenario.size / scenario.bytesPerSecond) * 1000;
    const run = await runCliStep(args, boundMs, (kill) => {
      const plan = step.kill;
      if (!plan) return () => undefined;
      if (plan.at === 'moment') {
        const timer = setTimeout(kill, plan.ms);
        return () => clearTimeout(timer);
      }
      const poll = setInterval(() => {
        if (this.proxy.uploadedBytes() - sentBefore >= plan.byte) kill();
      }, 5);
      return () => clearInterval(poll);
    });
    findings.runs += 1;
    const code = judgeExit(findings, index, run, boundMs);
    const record = await this.record();
    if (run.killedOnPlan) {
      findings.cover(`upload-kill:${step.kill!.at}`);
      // A kill costs at most the request in flight.
      this.allowance += Math.min(scenario.size, scenario.chunkSize ?? scenario.size) + 64 * KiB;
    }
    await this.checkServerHolds(index, record);
    if (!run.killedOnPlan && !run.timedOut && run.result.code === 0) {
      await this.checkSuccess(index, run.result.stdout.trim());
      findings.cover('outcome:upload-success');
      return true;
    }
    if (last && !run.timedOut) {
      findings.violation(index, `no success once the kills stopped (${code ?? run.result.signal ?? run.result.code}): ${run.result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    return false;
  }

  private async record(): Promise<UploadRecord | undefined> {
    const files = await readRecordFiles(this.dir);
    return files.flatMap((f) => f.records).find((r): r is UploadRecord => r.kind === 'upload');
  }

  /** The server's copy of this upload, if it has one. */
  private async serverFile(record?: UploadRecord): Promise<string | undefined> {
    if (this.apache) {
      return (await this.apache.sizeOf(this.name)) === undefined ? undefined : path.join(this.apache.root, this.name);
    }
    const id = record?.uploadUrl?.split('/').pop();
    if (!id) return undefined;
    return (await this.tus!.uploadFile(id))?.file;
  }

  /** The record never claims bytes the server lacks, and what it claims is the source's bytes. */
  private async checkServerHolds(step: number, record: UploadRecord | undefined): Promise<void> {
    if (!record || record.offset === 0) return;
    const file = await this.serverFile(record);
    const size = file ? await stat(file).then((s) => s.size, () => 0) : 0;
    if (size < record.offset) {
      this.findings.violation(step, `the record claims ${record.offset} B uploaded, the server holds ${size} B`);
      return;
    }
    const handle = await open(file!, 'r');
    try {
      const bytes = Buffer.alloc(record.offset);
      await handle.read(bytes, 0, record.offset, 0);
      if (!bytes.equals(this.body.subarray(0, record.offset))) {
        this.findings.violation(step, `the server's first ${record.offset} B differ from the source`);
      }
    } finally {
      await handle.close();
    }
  }

  /** The record is gone, and the resource the CLI printed holds exactly the source. */
  private async checkSuccess(step: number, printed: string): Promise<void> {
    const names = await readdir(this.dir);
    if (names.join('/') !== 'src.bin') this.findings.violation(step, `left behind after success: ${JSON.stringify(names)}`);
    const id = printed.split('/').pop() ?? '';
    const hash = this.apache ? await this.apache.sha256Of(this.name).catch(() => undefined) : await this.tus!.sha256Of(id).catch(() => undefined);
    if (hash !== sha256(this.body)) this.findings.violation(step, `the server's copy (${printed}) is not the source (sha256 ${hash ?? 'missing'})`);
  }
}
