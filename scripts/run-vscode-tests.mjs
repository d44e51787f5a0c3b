// `npm run test:vscode`: runs the in-editor test suite in a real VS Code desktop (Electron) with
// @vscode/test-electron. The suite is a module exporting run(); test/e2e/build-suite.mjs compiles
// it to out/e2e/suite/index.js. The first run downloads VS Code (internet needed) into .tools/vscode-test;
// on Linux without a display run it under xvfb-run.
// Environment: VSCODE_TEST_VERSION (default "stable"; e.g. "1.90.0" for the oldest supported),
//              EXTENSION_TESTS_PATH (another suite module instead of out/e2e/suite/index.js).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import testElectron from '@vscode/test-electron';

const { runTests } = testElectron;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const extensionTestsPath = path.resolve(process.env.EXTENSION_TESTS_PATH || path.join(repo, 'out', 'e2e', 'suite', 'index.js'));
const version = process.env.VSCODE_TEST_VERSION || 'stable';

function fail(message) {
  console.error(`test:vscode: ${message}`);
  process.exit(1);
}

if (!fs.existsSync(path.join(repo, 'dist', 'extension.js'))) {
  fail('dist/extension.js is missing: run `node esbuild.mjs` (npm run build) first.');
}
if (!fs.existsSync(extensionTestsPath)) {
  fail(`${path.relative(repo, extensionTestsPath)} is missing: compile the in-editor suite first (node test/e2e/build-suite.mjs).`);
}
if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  console.warn('test:vscode: no DISPLAY: VS Code desktop needs one; on a headless machine run `xvfb-run -a npm run test:vscode`.');
}

const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'resumable-transfers-ws-'));
fs.writeFileSync(path.join(workspace, 'README.md'), '# Test workspace of the in-editor suite\n');

const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'CERT_HAS_EXPIRED', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);

function networkError(err) {
  for (let e = err; e; e = e.cause) {
    if (NETWORK_CODES.has(e.code)) return e;
    if (/getaddrinfo|ENOTFOUND|EAI_AGAIN|socket hang up|Failed to get VS Code archive location|ETIMEDOUT/i.test(String(e.message))) return e;
  }
  return undefined;
}

let exitCode;
let message;
try {
  exitCode = await runTests({
    version,
    cachePath: path.join(repo, '.tools', 'vscode-test'),
    extensionDevelopmentPath: repo,
    extensionTestsPath,
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
  });
} catch (err) {
  const net = networkError(err);
  message = net
    ? `could not download VS Code "${version}" (${net.code ?? net.message}): this test needs internet access to ` +
      'update.code.visualstudio.com the first time (later runs reuse .tools/vscode-test). Offline, use the code-server e2e tests instead.'
    // runTests rejects with "Test run failed with code N" when the suite fails.
    : (err instanceof Error ? err.message : String(err));
  exitCode = 1;
} finally {
  fs.rmSync(workspace, { recursive: true, force: true });
}
if (message) fail(message);
process.exit(exitCode);
