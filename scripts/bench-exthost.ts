/**
 * Event-loop delay of the extension host during a full-speed download, measured in a real
 * extension host (code-server, the in-editor test harness) against nginx on 127.0.0.1.
 * Used by `npm run bench` (section exthost); needs the tools of `npm run test:e2e`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { CODE_SERVER_BIN, REPO_ROOT, launchBrowser, runExtensionTests, startCodeServer } from '../test/e2e/harness/codeServer';

export interface ExtHostResult {
  idle: { p50: number; p99: number; max: number };
  runs: { connections: number; state: string; seconds: number; p50: number; p99: number; max: number }[];
  node: string;
}

export async function measureExtensionHost(url: string, workDir: string, connections: number[]): Promise<ExtHostResult> {
  if (!existsSync(CODE_SERVER_BIN)) execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'e2e', 'install-tools.sh')], { stdio: 'inherit' });
  const outFile = path.join(workDir, 'bench-exthost', 'index.js');
  await esbuild.build({
    entryPoints: [path.join(REPO_ROOT, 'test', 'e2e', 'bench', 'exthost.ts')],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    logLevel: 'warning',
  });
  const workspace = path.join(workDir, 'ws');
  await mkdir(workspace, { recursive: true });
  const result = path.join(workDir, 'exthost-result.json');
  const cs = await startCodeServer({ runDir: path.join(workDir, 'cs'), workspace, smokeTestDriver: true });
  const browser = await launchBrowser(path.join(workDir, 'profile'));
  try {
    const run = await runExtensionTests(browser.page, cs, {
      workspace,
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: outFile,
      timeoutMs: 10 * 60_000,
      env: { BENCH_URL: url, BENCH_FOLDER: workspace, BENCH_RESULT: result, BENCH_CONNECTIONS: connections.join(',') },
    });
    if (run.code !== 0) throw new Error(`extension-host benchmark failed (${run.code}):\n${run.output.slice(-20).join('\n')}`);
    return JSON.parse(readFileSync(result, 'utf8')) as ExtHostResult;
  } finally {
    await browser.close();
    await cs.stop();
    await rm(path.join(workDir, 'cs'), { recursive: true, force: true });
    await rm(workspace, { recursive: true, force: true });
  }
}
