// Compiles the in-editor test suite test/e2e/suite/*.ts to out/e2e/suite/*.js (CommonJS, one
// bundle per file). `vscode` comes from the editor and `mocha` from node_modules at run time.
// out/e2e/suite/index.js is the `extensionTestsPath` for code-server (test/e2e/run.ts) and for
// @vscode/test-electron alike.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const suiteDir = join(repo, 'test', 'e2e', 'suite');
const outdir = join(repo, 'out', 'e2e', 'suite');

rmSync(outdir, { recursive: true, force: true });
await esbuild.build({
  entryPoints: readdirSync(suiteDir).filter((f) => f.endsWith('.ts')).map((f) => join(suiteDir, f)),
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  sourcesContent: false,
  external: ['vscode', 'mocha'],
  logLevel: 'warning',
});
