/**
 * Benchmark section for integrity: what verifying a download costs. The same file with one and
 * with four connections, without a checksum (`--no-checksum-discovery`), verified against a
 * `SHA256SUMS` published beside it (discovered), and against `--sha256`. With one connection the
 * bytes are hashed while they are written; with several the file is hashed once at the end.
 */
import { spawnSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { CLI } from '../test/support/cli';
import { generateFile, type NginxServer } from '../test/support/nginx';
import { alternate, median } from './bench';

const MiB = 1024 * 1024;
const NAME = 'verify.bin';

interface VerifyCase {
  name: string;
  connections: number;
  flags: string[];
  /** What the CLI must print on stderr, so a case that verified nothing cannot pass for one that did. */
  says: RegExp;
}

export async function measureVerify(nginx: NginxServer, root: string, outDir: string, sizeMiB: number, runs: number): Promise<string> {
  const sha256 = await generateFile(path.join(root, NAME), sizeMiB * MiB, 12);
  await writeFile(path.join(root, 'SHA256SUMS'), `${sha256}  ${NAME}\n`);
  const url = nginx.url(NAME);
  const cases: VerifyCase[] = [1, 4].flatMap((connections) => [
    { name: `${connections} connection(s), no checksum`, connections, flags: ['--no-checksum-discovery'], says: /^(?![\s\S]*verified)/ },
    { name: `${connections} connection(s), sha256 from SHA256SUMS`, connections, flags: [], says: /verified sha256 from SHA256SUMS/ },
    { name: `${connections} connection(s), --sha256`, connections, flags: ['--sha256', sha256], says: /verified sha256/ },
  ]);
  const command = (c: VerifyCase) => (out: string) => [process.execPath, CLI, 'get', url, '-o', out, '--connections', String(c.connections), ...c.flags];
  try {
    for (const c of cases) {
      // One untimed run per case that shows on stderr what was verified (the timed runs discard stderr).
      const out = path.join(outDir, 'verify-check.bin');
      const check = spawnSync(command(c)(out)[0], command(c)(out).slice(1), { encoding: 'utf8' });
      await rm(out, { force: true });
      if (check.status !== 0 || !c.says.test(check.stderr)) {
        throw new Error(`${c.name}: exit ${check.status}, stderr does not match ${c.says}:\n${check.stderr.slice(-2000)}`);
      }
    }
    const results = await alternate('verify', cases.map((c) => ({ name: c.name, command: command(c) })), outDir, runs);
    const rows = ['| case | wall s (median) | CPU s (median) |', '| --- | --- | --- |'];
    for (const [name, measured] of results) {
      rows.push(`| ${name} | ${median(measured.map((m) => m.wallSeconds)).toFixed(2)} | ${median(measured.map((m) => m.cpuSeconds)).toFixed(2)} |`);
    }
    return rows.join('\n');
  } finally {
    await rm(path.join(root, NAME), { force: true });
    await rm(path.join(root, 'SHA256SUMS'), { force: true });
  }
}
