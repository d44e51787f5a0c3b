/**
 * Starts a real nginx (Debian package `nginx-light`) on 127.0.0.1 for
 * integration tests, with the configuration in test/servers/nginx.conf.template.
 *
 * Everything nginx writes (conf, pid, logs, temp dirs) lives in a fresh
 * directory under os.tmpdir(), removed again by stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { SeededRandomStream } from './fault-server';
import { freePort } from './ports';
import { findExecutable } from './binaries';

export interface AccessLogEntry {
  method: string;
  uri: string;
  status: number;
  /** $body_bytes_sent */
  bytesSent: number;
  /** Range request header ('' if absent). */
  range: string;
  /** If-Range request header ('' if absent). */
  ifRange: string;
}

export interface NginxServer {
  /** 'http://127.0.0.1:PORT' */
  origin: string;
  /** Document root (absolute). Files in it are served at '/NAME' and, throttled, at '/limited/NAME'. */
  root: string;
  /** URL of a file below the root (segments are percent-encoded; '/' kept). */
  url(name: string): string;
  /**
   * Parsed access log. nginx writes a line when it finishes a request, which
   * can be a moment after the client got the last byte: this waits until at
   * least `minEntries` lines are present (max ~5 s) and the count is stable.
   */
  accessLog(minEntries?: number): Promise<AccessLogEntry[]>;
  /** SIGTERM to the nginx master, wait for exit, remove the temp prefix. Idempotent. */
  stop(): Promise<void>;
}

const TEMPLATE = path.resolve(__dirname, '..', 'servers', 'nginx.conf.template');

/** Absolute path of the nginx binary, or undefined. */
export function findNginx(): string | undefined {
  return findExecutable('nginx', ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin']);
}

/** nginx binary on PATH (or in /usr/sbin). */
export function nginxAvailable(): boolean {
  return findNginx() !== undefined;
}

export { freePort };

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const finish = (ok: boolean) => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Quote a path for an nginx config string literal. */
function nginxQuote(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

// Safety net: never leave an nginx we started running when the test process exits.
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
  });
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    if (!(await waitExit(child, 5000))) {
      child.kill('SIGKILL');
      await waitExit(child, 5000);
    }
  }
  running.delete(child);
}

function parseAccessLog(text: string): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      entries.push({
        method: String(o.method ?? ''),
        uri: String(o.uri ?? ''),
        status: Number(o.status),
        bytesSent: Number(o.bytesSent),
        range: String(o.range ?? ''),
        ifRange: String(o.ifRange ?? ''),
      });
    } catch {
      // partial line being written: ignore
    }
  }
  return entries;
}

async function launchOnce(
  binary: string,
  prefix: string,
  root: string,
): Promise<{ child: ChildProcess; port: number } | { error: string; retry: boolean }> {
  const port = await freePort();
  const template = await readFile(TEMPLATE, 'utf8');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const conf = template
    // Workers would otherwise run as `nobody`, which cannot read a 0700 temp root.
    .replace(/\{\{USER_DIRECTIVE\}\}/g, isRoot ? 'user root;' : '')
    .replace(/\{\{PREFIX\}\}/g, nginxQuote(prefix))
    .replace(/\{\{ROOT\}\}/g, nginxQuote(root))
    .replace(/\{\{PORT\}\}/g, String(port));
  const confPath = path.join(prefix, 'nginx.conf');
  const errorLog = path.join(prefix, 'logs', 'error.log');
  await writeFile(confPath, conf);

  const child = spawn(binary, ['-p', prefix + path.sep, '-c', confPath, '-e', errorLog], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));

  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) break;
    if (await canConnect(port)) {
      child.stdout?.resume();
      child.stderr?.resume();
      return { child, port };
    }
    await delay(50);
  }
  await killChild(child);
  let errText = '';
  try {
    errText = await readFile(errorLog, 'utf8');
  } catch {
    // no log
  }
  const message = `nginx failed to start (exit ${child.exitCode ?? child.signalCode}): ${spawnError?.message ?? ''}\n${output}\n${errText}`;
  return { error: message, retry: /Address already in use/i.test(message) };
}

export async function startNginx(options?: { root?: string }): Promise<NginxServer> {
  const binary = findNginx();
  if (!binary) throw new Error('nginx binary not found (install the nginx-light package)');
  installExitHook();

  const prefix = await mkdtemp(path.join(os.tmpdir(), 'rt-nginx-'));
  try {
    for (const d of ['logs', 'tmp/client_body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi']) {
      await mkdir(path.join(prefix, d), { recursive: true });
    }
    const root = path.resolve(options?.root ?? path.join(prefix, 'html'));
    await mkdir(root, { recursive: true });

    let launched: { child: ChildProcess; port: number } | undefined;
    let lastError = '';
    for (let attempt = 0; attempt < 3 && !launched; attempt++) {
      const r = await launchOnce(binary, prefix, root);
      if ('child' in r) launched = r;
      else {
        lastError = r.error;
        if (!r.retry) break;
      }
    }
    if (!launched) throw new Error(lastError);

    const { child, port } = launched;
    const origin = `http://127.0.0.1:${port}`;
    const accessLogPath = path.join(prefix, 'logs', 'access.log');
    let stopping: Promise<void> | undefined;

    const readLog = async (): Promise<AccessLogEntry[]> => {
      try {
        return parseAccessLog(await readFile(accessLogPath, 'utf8'));
      } catch {
        return [];
      }
    };

    return {
      origin,
      root,
      url(name: string): string {
        const clean = name.replace(/^\/+/, '');
        return `${origin}/${clean.split('/').map(encodeURIComponent).join('/')}`;
      },
      async accessLog(minEntries = 0): Promise<AccessLogEntry[]> {
        const deadline = Date.now() + 5000;
        let entries = await readLog();
        for (;;) {
          await delay(25);
          const again = await readLog();
          const stable = again.length === entries.length;
          entries = again;
          if ((stable && entries.length >= minEntries) || Date.now() > deadline) return entries;
        }
      },
      stop(): Promise<void> {
        stopping ??= (async () => {
          await killChild(child);
          await rm(prefix, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (e) {
    await rm(prefix, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Writes `size` bytes of deterministic content (same bytes as
 * randomBytesSeeded(size, seed)) to `file`, streaming in 1 MiB chunks, and
 * returns its sha256 (hex).
 */
export async function generateFile(file: string, size: number, seed: number): Promise<string> {
  const gen = new SeededRandomStream(seed);
  const hash = createHash('sha256');
  const CHUNK = 1024 * 1024;
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const fh = await open(file, 'w');
  try {
    let written = 0;
    while (written < size) {
      const chunk = gen.next(Math.min(CHUNK, size - written));
      hash.update(chunk);
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
        off += bytesWritten;
      }
      written += chunk.length;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

