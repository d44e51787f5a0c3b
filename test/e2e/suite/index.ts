/**
 * Entry point of the in-editor test suite (what `extensionTestsPath` points to, compiled to
 * out/e2e/suite/index.js by test/e2e/build-suite.mjs). The editor calls run() inside the
 * extension host; a rejected promise means failure. Works the same under code-server (payload,
 * test/e2e/run.ts) and under @vscode/test-electron.
 *
 * Environment (all optional):
 *   E2E_RESULTS_FILE  write a JSON summary of every test here (the e2e driver reads it)
 *   E2E_GREP          run only tests whose full title matches this regular expression
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export interface SuiteResult {
  title: string;
  state: 'passed' | 'failed';
  durationMs?: number;
  error?: string;
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  if (process.env.E2E_GREP) mocha.grep(new RegExp(process.env.E2E_GREP));
  for (const file of fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) {
    mocha.addFile(path.join(__dirname, file));
  }
  const results: SuiteResult[] = [];
  return new Promise<void>((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const file = process.env.E2E_RESULTS_FILE;
      if (file) {
        try {
          fs.mkdirSync(path.dirname(file), { recursive: true });
          fs.writeFileSync(file, JSON.stringify({ passed: runner.stats?.passes ?? 0, failed: failures, results }, null, 2));
        } catch (error) {
          console.error(`could not write ${file}: ${String(error)}`);
        }
      }
      if (failures > 0) reject(new Error(`${failures} test(s) failed`));
      else resolve();
    });
    runner.on('pass', (test) => results.push({ title: test.fullTitle(), state: 'passed', durationMs: test.duration }));
    runner.on('fail', (test, error: Error) => results.push({ title: test.fullTitle(), state: 'failed', error: error?.stack ?? String(error) }));
  });
}
