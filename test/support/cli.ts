import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { TransferRecord } from '../../src/core';

export const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** Variables added to this process's environment for the CLI (e.g. NODE_EXTRA_CA_CERTS). */
  env?: Record<string, string>;
}

export function startCli(args: string[], options: CliOptions = {}): { child: ChildProcess; result: Promise<CliResult> } {
  const env = options.env ? { ...process.env, ...options.env } : undefined;
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd, env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, result };
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}

/** Polls `check` every 20 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Starts the CLI with `args` and kills it with SIGKILL, as a crash would, once `ready()` holds;
 * resolves when it has died of that. It is killed as well when `ready()` never comes.
 */
export async function killCliWhen(args: string[], ready: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<void> {
  const run = startCli(args);
  try {
    await waitFor(ready, timeoutMs);
  } finally {
    run.child.kill('SIGKILL');
  }
  assert.equal((await run.result).signal, 'SIGKILL');
}

/** Whether the part file of `target` holds more than `bytes` bytes yet. */
export async function partFileLongerThan(target: string, bytes: number): Promise<boolean> {
  return existsSync(`${target}.part`) && (await stat(`${target}.part`)).size > bytes;
}

/** The records of the CLI's JSON record files in `dir` (`.<id>.transfer.json`). */
export async function readRecordFiles(dir: string): Promise<{ file: string; records: TransferRecord[] }[]> {
  const found: { file: string; records: TransferRecord[] }[] = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.transfer.json')) continue;
    const text = await readFile(path.join(dir, name), 'utf8').catch(() => '');
    try {
      found.push({ file: name, records: Object.values(JSON.parse(text) as Record<string, TransferRecord>) });
    } catch {
      found.push({ file: name, records: [] });
    }
  }
  return found;
}
