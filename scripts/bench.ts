/**
 * Benchmarks that print numbers (never timed assertions): the CLI against curl on the same nginx
 * and files, measured alternately in one run.
 *
 *   npm run bench                # all sections
 *   npm run bench -- --only=single --runs=5 --size-mib=1024
 *   sections: single (vs curl), multi (8 connections vs aria2c on a 20 MiB/s-per-connection
 *   location), resume (SIGKILL at 50 %, re-run), rss (4 GiB download), exthost (event-loop
 *   delay inside a real extension host during a full-speed download), limit (speed limits:
 *   achieved rate over every 5 s window, 1 and 8 connections), connections (1, 2, 4, 8
 *   connections against a per-connection-throttled host and one that answers 503/429), verify
 *   (1 and 4 connections without a checksum, verified from a SHA256SUMS beside the file, and with
 *   --sha256: wall and CPU time; `--size-mib` sets the size, as for single)
 *
 * Files are generated in a tmpfs (/dev/shm when present) so the disk does not dominate;
 * `--files-on=<folder>` puts them on a real disk instead (e.g. to see what syncing costs).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI } from '../test/support/cli';
import { generateFile, startNginx } from '../test/support/nginx';
import { measureExtensionHost } from './bench-exthost';
import { measureConnections, measureLimit } from './bench-limits';
import { measureVerify } from './bench-verify';

const MiB = 1024 * 1024;
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const RUNS = Number(args.runs ?? 5);
const ONLY = args.only as string | undefined;

export interface Measured {
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  exitCode: number | null;
}

function readPeakRss(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs a command under bash so that the `times` builtin reports the children's exact CPU time;
 * peak RSS is the kernel's high-water mark (VmHWM), polled until the process exits.
 */
export function measure(command: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const script = 'exec 3>&1; "$@" >/dev/null 2>/tmp/.bench-stderr-$$ & pid=$!; echo "PID $pid" >&3; wait $pid; code=$?; times >&3; exit $code';
    const started = process.hrtime.bigint();
    const child = spawn('bash', ['-c', script, 'bench', ...command], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let pid = 0;
    let peak = 0;
    const poll = setInterval(() => {
      if (pid) peak = Math.max(peak, readPeakRss(pid));
    }, 10);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PID (\d+)/.exec(out);
      if (m) pid = Number(m[1]);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      // `times` prints the shell's own line, then the children's: "0m1.234s 0m0.567s".
      const lines = out.trim().split('\n').filter((l) => /\d+m[\d.]+s/.test(l));
      const children = lines[lines.length - 1] ?? '';
      const cpuSeconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((s, m) => s + Number(m[1]) * 60 + Number(m[2]), 0);
      resolve({ wallSeconds, cpuSeconds, peakRssMiB: peak, exitCode: code });
    });
  });
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export function which(tool: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => existsSync(path.join(dir, tool)));
}

export async function alternate(
  label: string,
  contenders: { name: string; command: (out: string) => string[]; env?: NodeJS.ProcessEnv }[],
  outDir: string,
  runs: number,
): Promise<Map<string, Measured[]>> {
  const results = new Map<string, Measured[]>(contenders.map((c) => [c.name, []]));
  for (let run = 0; run < runs; run++) {
    for (const contender of contenders) {
      const out = path.join(outDir, `${contender.name.replace(/\W+/g, '_')}-${run}`);
      const m = await measure(contender.command(out), contender.env);
      await rm(out, { force: true });
      await rm(`${out}.part`, { force: true });
      if (m.exitCode !== 0) throw new Error(`${contender.name} exited with ${m.exitCode}`);
      results.get(contender.name)!.push(m);
      process.stderr.write(`  ${label} run ${run + 1}/${runs} ${contender.name}: ${m.wallSeconds.toFixed(2)} s\n`);
    }
  }
  return results;
}

function table(results: Map<string, Measured[]>, sizeBytes: number, baseline: string): string {
  const base = median(results.get(baseline)!.map((m) => m.wallSeconds));
  const rows = ['| tool | wall s (median) | × ' + baseline + ' | MB/s | CPU s | peak RSS MiB |', '| --- | --- | --- | --- | --- | --- |'];
  for (const [name, ms] of results) {
    const wall = median(ms.map((m) => m.wallSeconds));
    rows.push(
      `| ${name} | ${wall.toFixed(2)} | ${(wall / base).toFixed(2)} | ${(sizeBytes / 1e6 / wall).toFixed(0)} | ` +
        `${median(ms.map((m) => m.cpuSeconds)).toFixed(2)} | ${Math.max(...ms.map((m) => m.peakRssMiB)).toFixed(0)} |`,
    );
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('run "npm run build" first');
  const tmpfs = (args['files-on'] as string | undefined) ?? (existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
  const work = await mkdtemp(path.join(tmpfs, 'rt-bench-'));
  const root = path.join(work, 'www');
  const outDir = path.join(work, 'out');
  await mkdir(root, { recursive: true });
  await mkdir(outDir, { recursive: true });
  const nginx = await startNginx({ root });
  const cpus = os.cpus();
  console.log(`machine: ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, files on ${tmpfs}`);
  try {
    if (!ONLY || ONLY === 'single') {
      const sizeMiB = Number(args['size-mib'] ?? 1024);
      await generateFile(path.join(root, 'single.bin'), sizeMiB * MiB, 5);
      const url = nginx.url('single.bin');
      const contenders = [{ name: 'resumable-transfers', command: (out: string) => [process.execPath, CLI, 'get', url, '-o', out] }];
      if (which('curl')) contenders.push({ name: 'curl', command: (out: string) => ['curl', '-s', '-o', out, url] });
      const results = await alternate('single', contenders, outDir, RUNS);
      console.log(`\n## One connection, ${sizeMiB} MiB from nginx on 127.0.0.1 (median of ${RUNS}, alternating)\n`);
      console.log(table(results, sizeMiB * MiB, which('curl') ? 'curl' : 'resumable-transfers'));
      await rm(path.join(root, 'single.bin'), { force: true });
    }

    if (!ONLY || ONLY === 'multi') {
      const sizeMiB = Number(args['multi-size-mib'] ?? 256);
      await generateFile(path.join(root, 'multi.bin'), sizeMiB * MiB, 6);
      const url = nginx.url('limited/multi.bin');
      const contenders = [
        { name: 'resumable-transfers --connections 8', command: (out: string) => [process.execPath, CLI, 'get', url, '-o', out, '--connections', '8'] },
        { name: 'resumable-transfers --connections 1', command: (out: string) => [process.execPath, CLI, 'get', url, '-o', out] },
      ];
      if (which('aria2c')) {
        contenders.push({
          name: 'aria2c -x8 -s8',
          command: (out: string) => ['aria2c', '-q', '-x8', '-s8', '-k1M', '--file-allocation=none', '--allow-overwrite=true', '-d', path.dirname(out), '-o', path.basename(out), url],
        });
      }
      const runs = Math.max(1, Math.min(RUNS, Number(args['multi-runs'] ?? RUNS)));
      const results = await alternate('multi', contenders, outDir, runs);
      console.log(`\n## ${sizeMiB} MiB from an nginx location limited to 20 MiB/s per connection (median of ${runs}, alternating)\n`);
      console.log(table(results, sizeMiB * MiB, which('aria2c') ? 'aria2c -x8 -s8' : contenders[0].name));
      await rm(path.join(root, 'multi.bin'), { force: true });
    }

    if (!ONLY || ONLY === 'resume') {
      const sizeMiB = Number(args['resume-size-mib'] ?? 1024);
      const file = path.join(root, 'resume.bin');
      await generateFile(file, sizeMiB * MiB, 7);
      const url = nginx.url('resume.bin');
      const out = path.join(outDir, 'resume.bin');
      const whole = await measure([process.execPath, CLI, 'get', url, '-o', out]);
      await rm(out, { force: true });
      const logBefore = (await nginx.accessLog()).length;
      const started = process.hrtime.bigint();
      const child = spawn(process.execPath, [CLI, 'get', url, '-o', out], { stdio: 'ignore' });
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          let size = 0;
          try {
            size = statSync(`${out}.part`).size;
          } catch {
            // not created yet
          }
          if (size >= (sizeMiB * MiB) / 2) {
            child.kill('SIGKILL');
            clearInterval(poll);
            resolve();
          }
        }, 2);
      });
      await new Promise((resolve) => child.once('close', resolve));
      const killedAt = statSync(`${out}.part`).size;
      const second = await measure([process.execPath, CLI, 'get', url, '-o', out]);
      const total = Number(process.hrtime.bigint() - started) / 1e9;
      const entries = (await nginx.accessLog(logBefore + 2)).slice(logBefore);
      const fetched = entries.reduce((sum, e) => sum + e.bytesSent, 0);
      console.log(`\n## Resume cost: ${sizeMiB} MiB, SIGKILL at ${(killedAt / MiB).toFixed(0)} MiB, then the same command again\n`);
      console.log('| | value |\n| --- | --- |');
      console.log(`| uninterrupted download | ${whole.wallSeconds.toFixed(2)} s |`);
      console.log(`| killed run + resumed run, wall | ${total.toFixed(2)} s (resumed run alone ${second.wallSeconds.toFixed(2)} s) |`);
      console.log(`| bytes the server sent in both runs | ${(fetched / MiB).toFixed(1)} MiB for a ${sizeMiB} MiB file |`);
      console.log(`| fetched twice | ${((fetched - sizeMiB * MiB) / MiB).toFixed(2)} MiB |`);
      console.log(`| requests | ${entries.map((e) => `${e.status}${e.range ? ` ${e.range}` : ''}${e.ifRange ? ' If-Range' : ''}`).join(', ')} |`);
      await rm(out, { force: true });
      await rm(file, { force: true });
    }

    if (!ONLY || ONLY === 'rss') {
      const sizeMiB = Number(args['rss-size-mib'] ?? 4096);
      await generateFile(path.join(root, 'huge.bin'), sizeMiB * MiB, 8);
      const url = nginx.url('huge.bin');
      const single = await measure([process.execPath, CLI, 'get', url, '-o', path.join(outDir, 'huge-1')]);
      await rm(path.join(outDir, 'huge-1'), { force: true });
      const multi = await measure([process.execPath, CLI, 'get', url, '-o', path.join(outDir, 'huge-8'), '--connections', '8']);
      await rm(path.join(outDir, 'huge-8'), { force: true });
      console.log(`\n## Peak RSS for a ${sizeMiB} MiB download\n`);
      console.log('| connections | wall s | peak RSS MiB |\n| --- | --- | --- |');
      console.log(`| 1 | ${single.wallSeconds.toFixed(2)} | ${single.peakRssMiB.toFixed(0)} |`);
      console.log(`| 8 | ${multi.wallSeconds.toFixed(2)} | ${multi.peakRssMiB.toFixed(0)} |`);
      await rm(path.join(root, 'huge.bin'), { force: true });
    }
    if (!ONLY || ONLY === 'exthost') {
      const sizeMiB = Number(args['exthost-size-mib'] ?? 1024);
      await generateFile(path.join(root, 'exthost.bin'), sizeMiB * MiB, 9);
      const measured = await measureExtensionHost(nginx.url('exthost.bin'), work, [1, 4]);
      console.log(`\n## Extension-host event-loop delay, ${sizeMiB} MiB at full speed inside a real extension host (code-server, Node ${measured.node})\n`);
      console.log('| | wall s | p50 ms | p99 ms | max ms |\n| --- | --- | --- | --- | --- |');
      console.log(`| idle, before | | ${measured.idle.p50} | ${measured.idle.p99} | ${measured.idle.max} |`);
      for (const r of measured.runs) console.log(`| ${r.connections} connection(s), ${r.state} | ${r.seconds.toFixed(2)} | ${r.p50} | ${r.p99} | ${r.max} |`);
      await rm(path.join(root, 'exthost.bin'), { force: true });
    }
    if (!ONLY || ONLY === 'limit') {
      const sizeMiB = Number(args['limit-size-mib'] ?? 96);
      await generateFile(path.join(root, 'limit.bin'), sizeMiB * MiB, 10);
      const limit = Number(args['limit-mib'] ?? 8) * MiB;
      console.log(`\n## Speed limit ${limit / MiB} MiB/s, ${sizeMiB} MiB from nginx on 127.0.0.1 (engine in this process)\n`);
      console.log('| connections | limit | achieved overall | lowest 5 s window | highest 5 s window | windows |\n| --- | --- | --- | --- | --- | --- |');
      for (const connections of [1, 8]) {
        const r = await measureLimit(nginx.url('limit.bin'), outDir, connections, limit);
        const pct = (v: number) => `${(v / MiB).toFixed(2)} MiB/s (${(((v - limit) / limit) * 100).toFixed(1)} %)`;
        console.log(`| ${connections} | ${limit / MiB} MiB/s | ${pct(r.overall)} | ${pct(r.lowest)} | ${pct(r.highest)} | ${r.windows} |`);
      }
      await rm(path.join(root, 'limit.bin'), { force: true });
    }
    if (!ONLY || ONLY === 'connections') {
      const sizeMiB = Number(args['connections-size-mib'] ?? 32);
      await generateFile(path.join(root, 'conn.bin'), sizeMiB * MiB, 11);
      const rows: string[] = [];
      for (const [where, label] of [
        ['slow', '2 MiB/s per connection'],
        ['busy', '2 MiB/s per connection, a third connection gets 503'],
        ['busy429', '2 MiB/s per connection, a third connection gets 429'],
      ] as const) {
        for (const connections of [1, 2, 4, 8]) {
          const r = await measureConnections(nginx.url(`${where}/conn.bin`), outDir, connections, () => nginx.accessLog());
          rows.push(`| ${label} | ${connections} | ${r.seconds.toFixed(1)} s | ${(sizeMiB / r.seconds).toFixed(2)} MiB/s | ${r.refused} |`);
        }
      }
      console.log(`\n## Connections per download: ${sizeMiB} MiB from nginx (CLI, one run each)\n`);
      console.log('| host | connections | wall | throughput | refused requests |\n| --- | --- | --- | --- | --- |');
      console.log(rows.join('\n'));
      await rm(path.join(root, 'conn.bin'), { force: true });
    }
    if (!ONLY || ONLY === 'verify') {
      const sizeMiB = Number(args['size-mib'] ?? 1024);
      const table = await measureVerify(nginx, root, outDir, sizeMiB, RUNS);
      console.log(`\n## Verifying ${sizeMiB} MiB from nginx on 127.0.0.1 (CLI, median of ${RUNS}, alternating)\n`);
      console.log(table);
    }
  } finally {
    await nginx.stop();
    await rm(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
