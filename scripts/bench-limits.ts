/**
 * Benchmark sections for bandwidth: how close a speed limit holds over every 5 s window, and what
 * 1, 2, 4 and 8 connections give against a per-connection-throttled host and an overloaded one.
 */
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { BandwidthLimits, DownloadTask, MemoryTransferStore, NodeFetchHttpClient, downloadedBytes, newDownloadRecord } from '../src/core';
import type { AccessLogEntry } from '../test/support/nginx';
import { CLI } from '../test/support/cli';
import { measure } from './bench';

const WINDOW_MS = 5_000;
/** A burst at the start is allowed; windows begin after it. */
const SKIP_MS = 1_000;

export async function measureLimit(
  url: string,
  outDir: string,
  connections: number,
  bytesPerSecond: number,
): Promise<{ overall: number; lowest: number; highest: number; windows: number }> {
  const http = new NodeFetchHttpClient({ connectTimeoutMs: 10_000, responseTimeoutMs: 30_000 });
  const target = path.join(outDir, `limit-${connections}.bin`);
  const record = newDownloadRecord({ id: `limit-${connections}`, url, targetDir: outDir, target, connections, now: Date.now() });
  const task = new DownloadTask(record, { http, store: new MemoryTransferStore(), bandwidth: new BandwidthLimits(bytesPerSecond).gateFor('bench') });
  const samples: { at: number; bytes: number }[] = [];
  const started = Date.now();
  const timer = setInterval(() => samples.push({ at: Date.now() - started, bytes: downloadedBytes(task.record) }), 100);
  try {
    await task.run(new AbortController().signal);
  } finally {
    clearInterval(timer);
    http.dispose();
  }
  const seconds = (Date.now() - started) / 1000;
  const total = downloadedBytes(task.record);
  const at = (ms: number) => samples.reduce((best, s) => (Math.abs(s.at - ms) < Math.abs(best.at - ms) ? s : best), samples[0]).bytes;
  const rates: number[] = [];
  const last = samples[samples.length - 1]?.at ?? 0;
  for (let from = SKIP_MS; from + WINDOW_MS <= last; from += 500) rates.push(((at(from + WINDOW_MS) - at(from)) * 1000) / WINDOW_MS);
  await rm(target, { force: true });
  return { overall: total / seconds, lowest: Math.min(...rates), highest: Math.max(...rates), windows: rates.length };
}

export async function measureConnections(
  url: string,
  outDir: string,
  connections: number,
  accessLog: () => Promise<AccessLogEntry[]>,
): Promise<{ seconds: number; refused: number }> {
  const before = (await accessLog()).length;
  const out = path.join(outDir, `conn-${connections}.bin`);
  const run = await measure([process.execPath, CLI, 'get', url, '-o', out, '--connections', String(connections)]);
  if (run.exitCode !== 0) throw new Error(`download with ${connections} connections failed (${run.exitCode})`);
  await rm(out, { force: true });
  const refused = (await accessLog()).slice(before).filter((e) => e.status === 503 || e.status === 429).length;
  return { seconds: run.wallSeconds, refused };
}
