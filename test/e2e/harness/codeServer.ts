/**
 * End-to-end harness: a real VS Code (code-server: VS Code server + web workbench) driven by
 * Playwright (playwright-core) in Debian's Chromium. Tools come from scripts/e2e/install-tools.sh
 * (<repo>/.tools). Everything is located relative to this file at run time; override with
 *   E2E_TOOLS_DIR   (default <repo>/.tools)
 *   E2E_CODE_SERVER (code-server executable, default <tools>/cs/node_modules/.bin/code-server)
 *   E2E_NODE24_BIN  (folder with the Node 24 `node`, default <tools>/n24/node_modules/.bin)
 *   E2E_CHROMIUM    (browser executable, default /usr/bin/chromium)
 *   E2E_HEADED=1    (show the browser, needs a display)
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { freePort } from '../../support/ports';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const TOOLS_DIR = process.env.E2E_TOOLS_DIR ?? path.join(REPO_ROOT, '.tools');
export const CODE_SERVER_BIN = process.env.E2E_CODE_SERVER ?? path.join(TOOLS_DIR, 'cs', 'node_modules', '.bin', 'code-server');
export const NODE24_BIN_DIR = process.env.E2E_NODE24_BIN ?? path.join(TOOLS_DIR, 'n24', 'node_modules', '.bin');
export const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';
/** User settings for a quiet test workbench (Restricted Mode off, no gallery/update/tips). */
export const DEFAULT_SETTINGS_FILE = path.join(__dirname, 'settings.json');

export interface CodeServer {
  port: number;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  runDir: string;
  userDataDir: string;
  extensionsDir: string;
  /** code-server's stdout+stderr */
  logFile: string;
  pid: number;
  /** Kills code-server (its process group) by pid and waits until it has exited. Idempotent. */
  stop(): Promise<void>;
}

export interface StartCodeServerOptions {
  /** Folder for everything of this server: user-data dir, extensions dir, config, log. Reuse it to keep state. */
  runDir: string;
  /** Default: a free port. Keep the same port across restarts when the browser state (globalState) must survive. */
  port?: number;
  /** Folder opened by default (URL without ?folder=). Created if missing. */
  workspace: string;
  /** Merged over settings.json of this harness into <userDataDir>/User/settings.json. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server; the extension host inherits it. */
  env?: Record<string, string>;
  /** A .vsix to install (`code-server --install-extension --force`) before the start. */
  installVsix?: string;
  /** Pass `--vscode-option enable-smoke-test-driver` (required by runExtensionTests; suppresses toasts). */
  smokeTestDriver?: boolean;
  /** Extra code-server command line arguments. */
  extraArgs?: string[];
  /** How long to wait for /healthz (default 90 s). */
  startTimeoutMs?: number;
}

function checkTools(): void {
  if (!fs.existsSync(CODE_SERVER_BIN)) {
    throw new Error(`code-server not found at ${CODE_SERVER_BIN}: run scripts/e2e/install-tools.sh`);
  }
  if (!fs.existsSync(path.join(NODE24_BIN_DIR, 'node'))) {
    throw new Error(`Node 24 not found in ${NODE24_BIN_DIR}: run scripts/e2e/install-tools.sh`);
  }
}

/** Environment shared by all code-server invocations: Node 24 first on PATH, no gallery, nothing in $HOME. */
function codeServerEnv(runDir: string, extra?: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${NODE24_BIN_DIR}${path.delimiter}${process.env.PATH ?? ''}`,
    EXTENSIONS_GALLERY: '{}',
    // code-server writes its logs under $XDG_DATA_HOME/code-server and, without --config, a
    // config with password auth under $XDG_CONFIG_HOME: keep both inside the run dir.
    XDG_DATA_HOME: path.join(runDir, 'xdg-data'),
    XDG_CONFIG_HOME: path.join(runDir, 'xdg-config'),
    ...extra,
  };
}

export { freePort };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Package an extension folder as a VSIX with the repo's @vscode/vsce (works offline). Returns the VSIX path. */
export function packageVsix(extensionDir: string, outFile: string, extraArgs: string[] = []): string {
  const vsce = path.join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '-o', outFile, ...extraArgs], {
    cwd: extensionDir,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    throw new Error(`vsce package failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return outFile;
}

/** Install a VSIX into the user-data/extensions dirs of a (stopped or running) code-server run dir. */
export function installVsix(runDir: string, vsix: string): void {
  checkTools();
  const r = spawnSync(
    CODE_SERVER_BIN,
    ['--config', path.join(runDir, 'config.yaml'), '--user-data-dir', path.join(runDir, 'ud'),
      '--extensions-dir', path.join(runDir, 'ext'), '--install-extension', vsix, '--force'],
    { env: codeServerEnv(runDir), encoding: 'utf8' },
  );
  if (r.status !== 0) {
    throw new Error(`code-server --install-extension ${vsix} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  // Last resort if a test forgot stop(): do not leave servers behind.
  for (const cp of running) {
    try { process.kill(-(cp.pid as number), 'SIGKILL'); } catch { /* already gone */ }
  }
});

export async function startCodeServer(opts: StartCodeServerOptions): Promise<CodeServer> {
  checkTools();
  const runDir = path.resolve(opts.runDir);
  const userDataDir = path.join(runDir, 'ud');
  const extensionsDir = path.join(runDir, 'ext');
  const workspace = path.resolve(opts.workspace);
  for (const d of [runDir, path.join(userDataDir, 'User'), extensionsDir, workspace]) fs.mkdirSync(d, { recursive: true });

  const settings = { ...JSON.parse(fs.readFileSync(DEFAULT_SETTINGS_FILE, 'utf8')), ...opts.settings };
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));

  const port = opts.port ?? (await freePort());
  const configFile = path.join(runDir, 'config.yaml');
  fs.writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);

  if (opts.installVsix) installVsix(runDir, path.resolve(opts.installVsix));

  const args = [
    '--config', configFile,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override', '--disable-workspace-trust',
    ...(opts.smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ...(opts.extraArgs ?? []),
    workspace,
  ];
  const logFile = path.join(runDir, 'cs.log');
  const logFd = fs.openSync(logFile, 'a');
  fs.writeSync(logFd, `\n==== ${new Date().toISOString()} ${CODE_SERVER_BIN} ${args.join(' ')}\n`);
  // detached: own process group, so stop() also ends the extension host and file watchers it spawned.
  const cp = spawn(CODE_SERVER_BIN, args, {
    env: codeServerEnv(runDir, opts.env),
    stdio: ['ignore', logFd, logFd],
    detached: true,
  });
  fs.closeSync(logFd);
  running.add(cp);
  const pid = cp.pid as number;
  fs.writeFileSync(path.join(runDir, 'cs.pid'), String(pid));

  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    cp.once('exit', () => { exited = true; running.delete(cp); resolve(); });
  });

  const stop = async (): Promise<void> => {
    if (exited) return;
    // The group id is the pid of the code-server we spawned (detached); signal the lone pid only while
    // we know it is still ours (not yet exited, so the pid cannot have been reused).
    const kill = (sig: NodeJS.Signals): void => {
      try { process.kill(-pid, sig); } catch { if (!exited) { try { process.kill(pid, sig); } catch { /* gone */ } } }
    };
    kill('SIGTERM');
    const timedOut = await Promise.race([exitPromise.then(() => false), sleep(10000).then(() => true)]);
    if (timedOut) { kill('SIGKILL'); await exitPromise; }
    // children (extension host, watchers) share the group: make sure they are gone as well
    kill('SIGKILL');
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 90000);
  for (;;) {
    if (exited) throw new Error(`code-server exited during start-up; log ${logFile}:\n${tail(logFile)}`);
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer ${baseUrl}/healthz in time; log ${logFile}:\n${tail(logFile)}`);
    }
    await sleep(250);
  }
  return { port, baseUrl, runDir, userDataDir, extensionsDir, logFile, pid, stop };
}

// ------------------------------------------------------------------------------------ browser

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors seen so far (all pages of the context). */
  errors: string[];
  close(): Promise<void>;
}

export const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Chromium with a persistent profile. The web workbench keeps globalState in the browser's IndexedDB
 * (per profile and per origin = 127.0.0.1:<port>), so reusing the same profileDir and port keeps it
 * across page reloads and browser restarts; a fresh profile starts with empty globalState.
 * opts.permissions (e.g. ['clipboard-read', 'clipboard-write']) grants browser permissions; default none.
 */
export async function launchBrowser(
  profileDir: string,
  opts: { viewport?: { width: number; height: number }; permissions?: string[] } = {},
): Promise<BrowserSession> {
  const headed = process.env.E2E_HEADED === '1';
  fs.mkdirSync(profileDir, { recursive: true });
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: !headed,
    viewport: opts.viewport ?? { width: 1400, height: 900 },
    // None by default, as for a user who never answered a permission prompt. Note: without clipboard-read,
    // vscode.env.clipboard.readText() in the web workbench does not return before the user closes its sticky
    // "Unable to read from the browser's clipboard" notification (not even shown with enable-smoke-test-driver).
    permissions: opts.permissions ?? [],
    args: headed ? BROWSER_ARGS.filter((a) => a !== '--headless') : BROWSER_ARGS,
    // Chromium puts its crash-report folder under $XDG_CONFIG_HOME/chromium whatever the profile: keep it in the profile.
    env: { ...process.env, XDG_CONFIG_HOME: path.join(profileDir, 'xdg-config'), XDG_CACHE_HOME: path.join(profileDir, 'xdg-cache') } as Record<string, string>,
  });
  const errors: string[] = [];
  const watch = (p: Page): void => { p.on('pageerror', (e) => errors.push(String(e))); };
  context.pages().forEach(watch);
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, errors, close: () => context.close() };
}

/** URL of the workbench for a folder (and optionally a `payload`, see runExtensionTests). */
export function workbenchUrl(cs: Pick<CodeServer, 'baseUrl'>, folder: string, payload?: [string, string][]): string {
  let url = `${cs.baseUrl}/?folder=${encodeURIComponent(path.resolve(folder))}`;
  if (payload) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return url;
}

// ------------------------------------------------------------------------------------ extension-host tests

export interface RunExtensionTestsOptions {
  /** Folder opened as the workspace of the test window. */
  workspace: string;
  /** Folder of the extension under development (its package.json); loaded instead of an installed copy. */
  extensionDevelopmentPath: string;
  /** Module exporting `run(): Promise<void>` (e.g. a mocha runner), as for @vscode/test-electron. */
  extensionTestsPath: string;
  timeoutMs: number;
  /** Environment for the extension host of this run (payload `extensionEnvironment`), on top of code-server's. */
  env?: Record<string, string>;
  /** Called for each log line as it arrives (default: none; lines are collected in `output`). */
  onLog?: (line: string) => void;
}

export interface RunExtensionTestsResult {
  /** 0 = run() resolved; non-zero = it rejected; 'TIMEOUT' = no exit within timeoutMs. */
  code: number | string;
  /** Console output of the extension host (mocha's reporter etc.) and workbench, '[type] text' lines. */
  output: string[];
  durationMs: number;
}

interface AutomationHooks { log?: (type: string, args: unknown[]) => void; exit?: (code: unknown) => void }
const hooksByPage = new WeakMap<Page, AutomationHooks>();

/** exposeFunction can be called once per page and name: register once, dispatch to the current run. */
async function automationHooks(page: Page): Promise<AutomationHooks> {
  let hooks = hooksByPage.get(page);
  if (!hooks) {
    const h: AutomationHooks = {};
    hooks = h;
    hooksByPage.set(page, h);
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => h.log?.(type, args));
    await page.exposeFunction('codeAutomationExit', (code: unknown) => h.exit?.(code));
  }
  return hooks;
}

/**
 * Runs an extension test suite inside code-server's (Node) extension host with the real `vscode` API:
 * opens `/?folder=<ws>&payload=[[extensionDevelopmentPath, vscode-remote://host:port/…],
 * [extensionTestsPath, …], [extensionEnvironment, json]]`; the workbench calls window.codeAutomationExit(code)
 * when run() settles. Requires a server started with smokeTestDriver: true.
 * Afterwards the page still shows that test window: navigate elsewhere (do not reload it, that runs the suite again).
 */
export async function runExtensionTests(page: Page, cs: CodeServer, opts: RunExtensionTestsOptions): Promise<RunExtensionTestsResult> {
  const t0 = Date.now();
  const output: string[] = [];
  const remote = (p: string): string => `vscode-remote://127.0.0.1:${cs.port}${path.resolve(p).split(path.sep).join('/')}`;
  const payload: [string, string][] = [
    ['extensionDevelopmentPath', remote(opts.extensionDevelopmentPath)],
    ['extensionTestsPath', remote(opts.extensionTestsPath)],
  ];
  if (opts.env && Object.keys(opts.env).length) payload.push(['extensionEnvironment', JSON.stringify(opts.env)]);

  const hooks = await automationHooks(page);
  let finish!: (code: number | string) => void;
  const finished = new Promise<number | string>((r) => (finish = r));
  const push = (line: string): void => { output.push(line); opts.onLog?.(line); };
  hooks.log = (type, args) => {
    const line = util.format(...(Array.isArray(args) ? args : [args]));
    if (/Ignoring fetching additional builtin extensions/.test(line)) return;
    push(`[${type}] ${line}`);
  };
  hooks.exit = (code) => finish(typeof code === 'number' ? code : String(code));
  const onPageError = (e: Error): void => push(`[pageerror] ${String(e)}`);
  page.on('pageerror', onPageError);

  let timer: NodeJS.Timeout | undefined;
  try {
    await page.goto(workbenchUrl(cs, opts.workspace, payload));
    const timeout = new Promise<string>((r) => { timer = setTimeout(() => r('TIMEOUT'), opts.timeoutMs); });
    const code = await Promise.race([finished, timeout]);
    return { code, output, durationMs: Date.now() - t0 };
  } finally {
    if (timer) clearTimeout(timer);
    page.off('pageerror', onPageError);
    hooks.log = undefined;
    hooks.exit = undefined;
  }
}
