/**
 * `npm run test:e2e`: the extension in a real VS Code (code-server), no internet needed.
 *
 *   1. tools: scripts/e2e/install-tools.sh (Debian chromium, Node 24, code-server in <repo>/.tools;
 *      skipped step by step when present);
 *   2. build: the VSIX (`npm run package`, production bundle), the development bundle
 *      (dist/extension.js) and the in-editor suite (out/e2e/suite, test/e2e/build-suite.mjs);
 *   3. servers: the range server and its control server, and for the upload UI test a tus server
 *      (@tus/server) behind a throttle proxy (test/e2e/support/servers.ts), all on 127.0.0.1;
 *   4. code-server on one port for the whole run, with the VSIX installed and the smoke-test driver on;
 *   A. the in-editor mocha suite (test/e2e/suite) inside the extension host, loaded from the repo
 *      (payload extensionDevelopmentPath), in its own browser profile;
 *   B. the UI tests (test/e2e/ui: transfers.ui.ts, then upload.ui.ts) against the installed VSIX in one
 *      persistent browser profile.
 *
 * Everything is written under <repo>/.test-output/e2e (git-ignored): screenshots, the VSIX, and
 * run/ (code-server's user data and log, the workspaces, browser profiles, extension logs).
 * Ends with one line `e2e: N passed, N failed`; exit code 1 when anything failed.
 *
 * Environment:
 *   E2E_ONLY=suite|ui     run one part only
 *   E2E_PORT              code-server port (default: a free port, kept for the whole run)
 *   E2E_SKIP_INSTALL=1    do not run scripts/e2e/install-tools.sh
 *   E2E_SKIP_BUILD=1      use the existing VSIX, dist/ and out/e2e/suite
 *   E2E_TIMEOUT_MS        give up after this long (default 540000)
 *   E2E_GREP              only suite tests whose title matches (passed to the suite)
 *   E2E_UI_GREP           only UI tests whose name matches (C1 included)
 *   plus the harness variables (test/e2e/harness/codeServer.ts): E2E_TOOLS_DIR, E2E_HEADED, ...
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  REPO_ROOT,
  freePort,
  installVsix,
  launchBrowser,
  packageVsix,
  runExtensionTests,
  startCodeServer,
  type BrowserSession,
  type CodeServer,
} from './harness/codeServer';
import { openWorkbench, pickQuickItem, runCommand, screenshot, statusBarText, waitFor } from './harness/ui';
import { startE2eServers, startE2eTusServer, type E2eServers, type E2eTusServer } from './support/servers';
import type { SuiteResult } from './suite/index';
import { machineUiTests } from './ui/machines.ui';
import { uiTests } from './ui/transfers.ui';
import { linkUiTests } from './ui/links.ui';
import { detailsUiTests } from './ui/details.ui';
import { verifyUiTests } from './ui/verify.ui';
import { updateLinkUiTests } from './ui/update-link.ui';
import { windowUiTests } from './ui/windows.ui';
import { UPLOAD_RATE_BYTES_PER_SEC, uploadUiTests } from './ui/upload.ui';
import { reloadUiTests } from './ui/reloads.ui';

const OUTPUT = path.join(REPO_ROOT, '.test-output', 'e2e');
const RUN_DIR = path.join(OUTPUT, 'run');
const VSIX = path.join(OUTPUT, 'resumable-transfers.vsix');
const SUITE_INDEX = path.join(REPO_ROOT, 'out', 'e2e', 'suite', 'index.js');
const ONLY = process.env.E2E_ONLY;
const TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS ?? 540_000);
/** E2E_UI_GREP: only the UI tests (B, R, M, W and C1) whose name matches. */
const UI_GREP = process.env.E2E_UI_GREP ? new RegExp(process.env.E2E_UI_GREP) : undefined;

/** Workbench start-up chatter that comes through the same log channel as the suite's output. */
const WORKBENCH_NOISE = /connection token|Creating a socket|reconnection-grace-time|\[Service Worker\]|\[AgentHost|AccountPolicyGate|additional builtin extensions|^\[\w+\]\s*$/;

interface Result {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

const t0 = Date.now();
const results: Result[] = [];
const elapsed = (): string => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const say = (message: string): void => console.log(`[e2e ${elapsed()}] ${message}`);

function record(result: Result): void {
  results.push(result);
  const time = `${(result.ms / 1000).toFixed(1)} s`;
  if (result.ok) console.log(`  ✓ ${result.name} (${time})`);
  else console.log(`  ✗ ${result.name} (${time})\n${(result.error ?? '').replace(/^/gm, '      ')}`);
}

function run(command: string, args: string[], what: string, env?: NodeJS.ProcessEnv): void {
  const started = Date.now();
  const r = spawnSync(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: env ?? process.env });
  if (r.status !== 0) {
    throw new Error(`${what} failed (exit ${r.status ?? r.signal}):\n${(r.stdout ?? '').slice(-4000)}\n${(r.stderr ?? '').slice(-4000)}`);
  }
  say(`${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function installTools(): void {
  if (process.env.E2E_SKIP_INSTALL === '1') return;
  const env = { ...process.env, ...(process.env.E2E_TOOLS_DIR ? { TOOLS_DIR: process.env.E2E_TOOLS_DIR } : {}) };
  const started = Date.now();
  const r = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'e2e', 'install-tools.sh')], { cwd: REPO_ROOT, stdio: 'inherit', env });
  if (r.status !== 0) throw new Error(`scripts/e2e/install-tools.sh failed (exit ${r.status ?? r.signal})`);
  say(`tools ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function build(): void {
  if (process.env.E2E_SKIP_BUILD === '1') return;
  fs.mkdirSync(OUTPUT, { recursive: true });
  fs.rmSync(VSIX, { force: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
    repository?: string | { url?: string };
  };
  if (ONLY !== 'suite') {
    if (manifest.scripts?.package) {
      // The VSIX a release ships, so building it is a check of its own. `npm run package` ends with
      // `vsce package ... -o <file>`: a second -o (the last one wins) puts the file here.
      const started = Date.now();
      try {
        run('npm', ['run', '--silent', 'package', '--', '-o', VSIX], 'VSIX packaged (npm run package)');
        record({ name: 'VSIX builds with npm run package', ok: fs.existsSync(VSIX), ms: Date.now() - started, error: `no ${VSIX}` });
      } catch (error) {
        record({ name: 'VSIX builds with npm run package', ok: false, ms: Date.now() - started, error: String(error instanceof Error ? error.message : error) });
      }
    }
    if (!fs.existsSync(VSIX)) {
      // No (working) package script: build the same VSIX directly, so that the UI tests still run. vsce refuses
      // relative README images without a GitHub/GitLab repository: give it a base URL, this VSIX is never published.
      const repository = typeof manifest.repository === 'string' ? manifest.repository : manifest.repository?.url;
      const base = /^https?:/.test(repository ?? '') ? `${(repository as string).replace(/\.git$/, '')}/raw/HEAD/` : 'https://example.invalid/';
      run(process.execPath, ['esbuild.mjs', '--production'], 'production bundle');
      run(process.execPath, [path.join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies',
        '--baseContentUrl', base, '--baseImagesUrl', base, '-o', VSIX], 'VSIX packaged with vsce directly (fallback)');
    }
  }
  // The suite runs the extension from the repo: the development bundle (with source maps).
  run(process.execPath, ['esbuild.mjs'], 'development bundle');
  run(process.execPath, [path.join('test', 'e2e', 'build-suite.mjs')], 'suite compiled to out/e2e/suite');
}

// ------------------------------------------------------------------------------------ A. in-editor suite

async function runSuite(cs: CodeServer, servers: E2eServers): Promise<void> {
  say('A. in-editor suite (mocha in the extension host, extension loaded from the repo)');
  const workspace = path.join(RUN_DIR, 'ws-suite');
  fs.mkdirSync(workspace, { recursive: true });
  const resultsFile = path.join(RUN_DIR, 'suite-results.json');
  fs.rmSync(resultsFile, { force: true });
  let browser: BrowserSession | undefined;
  const started = Date.now();
  try {
    // A profile of its own: the suite's globalState must not show up in the UI tests' window.
    browser = await launchBrowser(path.join(RUN_DIR, 'profile-suite'));
    const env: Record<string, string> = {
      E2E_CONTROL_URL: servers.controlUrl,
      E2E_RESULTS_FILE: resultsFile,
      // A proxy the extension cannot use, there from the start: activation must survive it, and
      // only https transfers to hosts outside NO_PROXY may fail (the suite checks both).
      HTTPS_PROXY: 'socks5://127.0.0.1:9',
      NO_PROXY: '127.0.0.1',
    };
    if (process.env.E2E_GREP) env.E2E_GREP = process.env.E2E_GREP;
    const outcome = await runExtensionTests(browser.page, cs, {
      workspace,
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: SUITE_INDEX,
      timeoutMs: 240_000,
      env,
      // The extension host's console (mocha's spec reporter) and the workbench's: prefixed, so that no
      // line of it reads like a mocha summary to whoever counts "N passing" in this output.
      onLog: (line) => {
        if (!WORKBENCH_NOISE.test(line)) console.log(`    [editor] ${line}`);
      },
    });
    say(`suite finished with code ${outcome.code} in ${(outcome.durationMs / 1000).toFixed(1)} s`);
    const summary = fs.existsSync(resultsFile)
      ? (JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as { results: SuiteResult[] })
      : undefined;
    for (const r of summary?.results ?? []) {
      record({ name: `A ${r.title}`, ok: r.state === 'passed', ms: r.durationMs ?? 0, error: r.error });
    }
    const failedHere = summary?.results.some((r) => r.state === 'failed') ?? false;
    if (!summary || summary.results.length === 0 || (outcome.code !== 0 && !failedHere)) {
      record({
        name: 'A in-editor suite run',
        ok: false,
        ms: Date.now() - started,
        error: `exit code ${outcome.code}, ${summary ? `${summary.results.length} results` : 'no results file'}; last output:\n${outcome.output.slice(-30).join('\n')}`,
      });
    }
  } catch (error) {
    record({ name: 'A in-editor suite run', ok: false, ms: Date.now() - started, error: String(error instanceof Error ? error.stack : error) });
  } finally {
    await browser?.close().catch(() => undefined);
  }
}

// ------------------------------------------------------------------------------------ B. UI tests

async function runUi(cs: CodeServer, servers: E2eServers, tus: E2eTusServer): Promise<void> {
  say('B. UI tests (installed VSIX, palette / Transfers view / status bar / notifications)');
  const workspace = path.join(RUN_DIR, 'ws-ui');
  fs.mkdirSync(workspace, { recursive: true });
  let browser: BrowserSession | undefined;
  const started = Date.now();
  try {
    // One persistent profile for all UI tests: globalState lives in its IndexedDB (origin = this port).
    browser = await launchBrowser(path.join(RUN_DIR, 'profile-ui'));
    const page = browser.page;
    await openWorkbench(page, cs, workspace, 120_000);
    // The activity-bar icon of the Transfers container is there once the extension's contributions are.
    await waitFor(() => page.locator('.activitybar [aria-label^="Transfers"]').first().isVisible(), 'Transfers icon in the activity bar', 60_000);
    say(`workbench ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    const ctx = { page, servers, workspace, shotsDir: OUTPUT, userDataDir: cs.userDataDir, log: (m: string) => console.log(`      ${m}`) };
    const failed = new Set<string>();
    for (const test of [...uiTests(), ...linkUiTests(), ...detailsUiTests(), ...verifyUiTests(), ...updateLinkUiTests(), ...uploadUiTests(tus), ...reloadUiTests(tus), ...machineUiTests(), ...windowUiTests()]) {
      const id = test.name.split(' ')[0];
      if (UI_GREP && !UI_GREP.test(test.name)) continue;
      const t = Date.now();
      if (test.needs && failed.has(test.needs)) {
        failed.add(id);
        record({ name: test.name, ok: false, ms: 0, error: `not run: ${test.needs} failed` });
        continue;
      }
      console.log(`  … ${test.name}`);
      try {
        await test.run(ctx);
        record({ name: test.name, ok: true, ms: Date.now() - t });
      } catch (error) {
        failed.add(id);
        const shot = await screenshot(page, OUTPUT, `FAILED-${id}`).catch(() => '(no screenshot)');
        let status = '';
        try { status = await statusBarText(page, 'resumable-transfers.resumable-transfers.resumableTransfers.status', 500); } catch { /* hidden */ }
        record({ name: test.name, ok: false, ms: Date.now() - t, error: `${String(error instanceof Error ? error.stack : error)}\nstatus bar: "${status}"; screenshot ${path.relative(REPO_ROOT, shot)}` });
      }
    }
    if (browser.errors.length) say(`page errors seen: ${browser.errors.slice(0, 5).join(' | ')}`);
  } catch (error) {
    record({ name: 'B UI tests set-up', ok: false, ms: Date.now() - started, error: String(error instanceof Error ? error.stack : error) });
  } finally {
    await browser?.close().catch(() => undefined);
  }
}

// ------------------------------------------------------------------------------------ C. Chinese

const CHINESE_TEST = 'C1 in Chinese: rows, status bar and the details view speak zh-cn with full-width colons';

/**
 * The same window in Simplified Chinese. code-server switches its display language only when a
 * language pack for it is installed: a stub pack registers zh-cn (translating nothing of the
 * workbench), `locale` in argv.json selects it, and the extension shows its own zh-cn strings.
 * Same port and browser profile, so the rows of the B tests are there.
 */
async function runChinese(previous: CodeServer): Promise<CodeServer> {
  say('C. Simplified Chinese (stub language pack, locale zh-cn)');
  const started = Date.now();
  await previous.stop();
  const pack = packageVsix(path.join(__dirname, 'zh-cn-pack'), path.join(OUTPUT, 'stub-language-pack-zh-cn.vsix'));
  installVsix(RUN_DIR, pack);
  fs.writeFileSync(path.join(previous.userDataDir, 'User', 'argv.json'), JSON.stringify({ locale: 'zh-cn' }, null, 2));
  // The server reads its language packs from languagepacks.json at start-up; an install from the
  // command line does not write it, the running workbench would only on its own install.
  const packDir = fs.readdirSync(previous.extensionsDir).find((d) => d.startsWith('e2e-tests.stub-language-pack-zh-hans-'));
  if (!packDir) throw new Error('the stub language pack did not install');
  const languagePacks = {
    'zh-cn': {
      hash: 'e2e-stub-zh-cn-1',
      extensions: [{ extensionIdentifier: { id: 'e2e-tests.stub-language-pack-zh-hans' }, version: '0.0.1' }],
      translations: { vscode: path.join(previous.extensionsDir, packDir, 'translations', 'main.i18n.json') },
      label: '中文(简体)',
    },
  };
  fs.writeFileSync(path.join(previous.userDataDir, 'languagepacks.json'), JSON.stringify(languagePacks, null, 2));
  const cs = await startCodeServer({
    runDir: RUN_DIR,
    port: previous.port,
    workspace: path.join(RUN_DIR, 'ws-ui'),
    smokeTestDriver: true,
    startTimeoutMs: 120_000,
    extraArgs: ['--locale', 'zh-cn'],
  });
  let browser: BrowserSession | undefined;
  const name = CHINESE_TEST;
  try {
    browser = await launchBrowser(path.join(RUN_DIR, 'profile-ui'));
    const page = browser.page;
    await openWorkbench(page, cs, path.join(RUN_DIR, 'ws-ui'), 120_000);
    const icon = page.locator('.activitybar [aria-label^="传输"]').first();
    await waitFor(() => icon.isVisible(), 'the Transfers icon, titled 传输', 60_000);
    if (!(await page.locator('.pane-header[aria-label^="传输"]').first().isVisible())) await icon.click();
    const failed = await waitFor(async () => {
      const labels = await page.locator('.monaco-list-row[aria-label*="missing.bin"]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
      return labels.find((l) => l.includes('失败：'));
    }, 'the failed row in Chinese, with a full-width colon', 60_000);
    console.log(`      row: "${failed}"`);
    if (!/HTTP 状态 404|404/.test(failed)) throw new Error(`the Chinese row does not name the status: ${failed}`);
    await page.mouse.move(900, 600);
    await screenshot(page, OUTPUT, '10-zh-cn-transfers');
    await runCommand(page, '传输: 显示详细信息', { timeoutMs: 30_000 });
    await pickQuickItem(page, 'details.bin', 20_000, { filter: true });
    const doc = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    await doc.locator('#pieces-title', { hasText: '分块' }).waitFor({ state: 'visible', timeout: 30_000 });
    const verified = await doc.locator('#requests tr.verify').innerText({ timeout: 20_000 });
    if (!verified.includes('已校验：')) throw new Error(`verification line not in Chinese: ${verified}`);
    await page.mouse.move(900, 600);
    await screenshot(page, OUTPUT, '11-zh-cn-details');
    record({ name, ok: true, ms: Date.now() - started });
  } catch (error) {
    const shot = browser ? await screenshot(browser.page, OUTPUT, 'FAILED-C1').catch(() => '(no screenshot)') : '(no browser)';
    record({ name, ok: false, ms: Date.now() - started, error: `${String(error instanceof Error ? error.stack : error)}; screenshot ${String(shot)}` });
  } finally {
    await browser?.close().catch(() => undefined);
  }
  return cs;
}

/** Copies the extension's log files (one per extension host) next to the screenshots. */
function collectExtensionLogs(cs: CodeServer | undefined): void {
  if (!cs) return;
  const logsDir = path.join(cs.userDataDir, 'logs');
  const out = path.join(OUTPUT, 'extension-logs');
  fs.rmSync(out, { recursive: true, force: true });
  const walk = (dir: string): string[] =>
    fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)])) : [];
  const files = walk(logsDir).filter((f) => f.includes('resumable-transfers.resumable-transfers'));
  files.forEach((file, i) => {
    fs.mkdirSync(out, { recursive: true });
    const host = path.basename(path.dirname(path.dirname(file)));
    fs.copyFileSync(file, path.join(out, `${String(i + 1).padStart(2, '0')}-${host}.log`));
  });
}

async function main(): Promise<number> {
  let cs: CodeServer | undefined;
  let servers: E2eServers | undefined;
  let tus: E2eTusServer | undefined;
  const watchdog = setTimeout(() => {
    console.error(`[e2e] gave up after ${TIMEOUT_MS / 1000} s`);
    void (async () => {
      await cs?.stop().catch(() => undefined);
      await servers?.close().catch(() => undefined);
      await tus?.close().catch(() => undefined);
      console.log(`e2e: ${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length + 1} failed`);
      process.exit(1);
    })();
  }, TIMEOUT_MS);
  watchdog.unref();
  // Ctrl-C / kill: stop what this run started before leaving.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`[e2e] ${signal}: stopping`);
      void Promise.allSettled([cs?.stop(), servers?.close(), tus?.close()]).then(() => process.exit(130));
    });
  }
  try {
    installTools();
    build();
    fs.rmSync(RUN_DIR, { recursive: true, force: true });
    for (const f of fs.existsSync(OUTPUT) ? fs.readdirSync(OUTPUT) : []) if (f.endsWith('.png')) fs.rmSync(path.join(OUTPUT, f));
    fs.mkdirSync(RUN_DIR, { recursive: true });
    servers = await startE2eServers();
    say(`range server ${servers.fault.origin}, control ${servers.controlUrl}`);
    if (ONLY !== 'suite') {
      tus = await startE2eTusServer({ directory: path.join(RUN_DIR, 'tus-uploads'), rateBytesPerSec: UPLOAD_RATE_BYTES_PER_SEC });
      say(`tus server (through the throttle proxy) ${tus.endpoint}`);
    }
    const port = process.env.E2E_PORT ? Number(process.env.E2E_PORT) : await freePort();
    cs = await startCodeServer({
      runDir: RUN_DIR,
      port,
      workspace: path.join(RUN_DIR, 'ws-ui'),
      installVsix: ONLY === 'suite' ? undefined : VSIX,
      smokeTestDriver: true,
      startTimeoutMs: 120_000,
    });
    say(`code-server ${cs.baseUrl} (pid ${cs.pid})`);
    if (ONLY !== 'ui') await runSuite(cs, servers);
    if (ONLY !== 'suite' && tus) {
      await runUi(cs, servers, tus);
      // C1 reads rows of B4 and D1: with E2E_UI_GREP it runs only when asked for by name.
      if (!UI_GREP || UI_GREP.test(CHINESE_TEST)) cs = await runChinese(cs);
    }
  } catch (error) {
    record({ name: 'e2e set-up', ok: false, ms: Date.now() - t0, error: String(error instanceof Error ? error.stack : error) });
  } finally {
    await cs?.stop().catch((error: unknown) => say(`could not stop code-server: ${String(error)}`));
    await servers?.close().catch(() => undefined);
    await tus?.close().catch(() => undefined);
    collectExtensionLogs(cs);
    clearTimeout(watchdog);
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  say(`done; screenshots and logs in ${path.relative(REPO_ROOT, OUTPUT)}/`);
  // The same summary lines mocha prints, so that CI totals over every suite include these tests.
  console.log(`\n  ${passed} passing (${elapsed()})`);
  if (failed) console.log(`  ${failed} failing`);
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    console.log('e2e: 0 passed, 1 failed');
    process.exit(1);
  },
);
