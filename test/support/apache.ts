/**
 * Starts a real Apache httpd with mod_dav (Debian package `apache2`) on 127.0.0.1 for the upload
 * tests, with the configuration in test/servers/apache-dav.conf.template. ServerRoot, pid file,
 * logs, lock database and the DAV folder live in a fresh temp dir removed by stop(). Only the
 * process started here is ever signalled, by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './nginx';
import { findExecutable } from './binaries';

export interface ApacheLogEntry {
  method: string;
  path: string;
  status: number;
  /** Bytes received for the request, headers included (%I). */
  received: number;
  /** Content-Range request header, '' when absent. */
  contentRange: string;
}

export interface ApacheServer {
  origin: string;
  /** The DAV folder, served at '/'. */
  root: string;
  url(name: string): string;
  /** Size of a file in the DAV folder, undefined when missing. */
  sizeOf(name: string): Promise<number | undefined>;
  sha256Of(name: string): Promise<string>;
  accessLog(): Promise<ApacheLogEntry[]>;
  stop(): Promise<void>;
}

const TEMPLATE = path.resolve(__dirname, '..', 'servers', 'apache-dav.conf.template');
const MODULE_DIRS = ['/usr/lib/apache2/modules', '/usr/lib64/httpd/modules', '/usr/libexec/apache2'];

export function findApache(): string | undefined {
  return findExecutable('apache2');
}

function findModules(): string | undefined {
  return MODULE_DIRS.find((dir) => existsSync(path.join(dir, 'mod_dav_fs.so')));
}

/** apache2 and its mod_dav modules are installed. */
export function apacheAvailable(): boolean {
  return findApache() !== undefined && findModules() !== undefined;
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function canConnect(origin: string): Promise<boolean> {
  try {
    const response = await fetch(`${origin}/`, { method: 'OPTIONS', signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

function parseLog(text: string): ApacheLogEntry[] {
  const entries: ApacheLogEntry[] = [];
  for (const line of text.split('\n')) {
    // The path is %U, decoded: it may hold spaces.
    const match = /^(\S+) (.+) (\d+) (\d+|-) "([^"]*)"$/.exec(line.trim());
    if (!match) continue;
    entries.push({
      method: match[1],
      path: match[2],
      status: Number(match[3]),
      received: match[4] === '-' ? 0 : Number(match[4]),
      contentRange: match[5] === '-' ? '' : match[5],
    });
  }
  return entries;
}

export async function startApache(): Promise<ApacheServer> {
  const binary = findApache();
  const modules = findModules();
  if (!binary || !modules) throw new Error('apache2 with mod_dav not found (install the apache2 package)');
  const prefix = await mkdtemp(path.join(os.tmpdir(), 'rt-apache-'));
  const child = await (async () => {
    // Workers run as www-data: they must reach the DAV folder and the lock database.
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    await chmod(prefix, 0o755);
    for (const dir of ['run', 'logs', 'lock', 'dav']) await mkdir(path.join(prefix, dir), { recursive: true });
    if (isRoot) {
      const { uid, gid } = userIds('www-data');
      await chown(path.join(prefix, 'dav'), uid, gid);
      await chown(path.join(prefix, 'lock'), uid, gid);
    }
    const port = await freePort();
    const conf = (await readFile(TEMPLATE, 'utf8'))
      .replace(/\{\{PREFIX\}\}/g, prefix)
      .replace(/\{\{ROOT\}\}/g, path.join(prefix, 'dav'))
      .replace(/\{\{MODULES\}\}/g, modules)
      .replace(/\{\{PORT\}\}/g, String(port))
      .replace(/\{\{USER_DIRECTIVES\}\}/g, isRoot ? 'User www-data\nGroup www-data' : '');
    const confPath = path.join(prefix, 'apache2.conf');
    await writeFile(confPath, conf);
    const env = {
      ...process.env,
      APACHE_RUN_DIR: path.join(prefix, 'run'),
      APACHE_LOCK_DIR: path.join(prefix, 'lock'),
      APACHE_LOG_DIR: path.join(prefix, 'logs'),
      APACHE_PID_FILE: path.join(prefix, 'run', 'apache2.pid'),
      APACHE_RUN_USER: 'www-data',
      APACHE_RUN_GROUP: 'www-data',
    };
    const spawned = spawn(binary, ['-d', prefix, '-f', confPath, '-DFOREGROUND'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    spawned.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    spawned.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const origin = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (spawned.exitCode !== null || spawned.signalCode !== null) break;
      if (await canConnect(origin)) return { spawned, origin };
      await delay(100);
    }
    spawned.kill('SIGKILL');
    const errorLog = await readFile(path.join(prefix, 'logs', 'error.log'), 'utf8').catch(() => '');
    throw new Error(`apache2 did not start (exit ${spawned.exitCode ?? spawned.signalCode}): ${output}\n${errorLog}`);
  })().catch(async (error: unknown) => {
    await rm(prefix, { recursive: true, force: true });
    throw error;
  });

  const root = path.join(prefix, 'dav');
  let stopping: Promise<void> | undefined;
  return {
    origin: child.origin,
    root,
    url: (name) => `${child.origin}/${encodeURIComponent(name)}`,
    async sizeOf(name) {
      try {
        return (await stat(path.join(root, name))).size;
      } catch {
        return undefined;
      }
    },
    async sha256Of(name) {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(path.join(root, name))) hash.update(chunk as Buffer);
      return hash.digest('hex');
    },
    async accessLog() {
      return parseLog(await readFile(path.join(prefix, 'logs', 'access.log'), 'utf8').catch(() => ''));
    },
    stop() {
      stopping ??= (async () => {
        const { spawned } = child;
        if (spawned.exitCode === null && spawned.signalCode === null) {
          // -DFOREGROUND: the child we spawned is the master; SIGTERM stops it and its workers.
          spawned.kill('SIGTERM');
          if (!(await waitExit(spawned, 10_000))) {
            spawned.kill('SIGKILL');
            await waitExit(spawned, 5_000);
          }
        }
        await rm(prefix, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** uid/gid of a system user from /etc/passwd (no extra dependency). */
function userIds(name: string): { uid: number; gid: number } {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`user ${name} not found`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
