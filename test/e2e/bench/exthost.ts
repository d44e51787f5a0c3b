/**
 * Runs inside a real extension host (as `extensionTestsPath`): downloads one file at full speed
 * through the extension's API and measures this thread's event-loop delay meanwhile, the delay
 * every other extension in the same host would feel. Writes a JSON result to BENCH_RESULT.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { ResumableTransfersApi } from '../../../src/vscode/api';

const ms = (ns: number) => Math.round((ns / 1e6) * 10) / 10;
const summary = (h: IntervalHistogram) => ({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) });

export async function run(): Promise<void> {
  const url = process.env.BENCH_URL ?? '';
  const folder = process.env.BENCH_FOLDER ?? '';
  const connections = (process.env.BENCH_CONNECTIONS ?? '1').split(',').map(Number);
  const extension = vscode.extensions.getExtension<ResumableTransfersApi>('resumable-transfers.resumable-transfers');
  if (!extension) throw new Error('extension not found');
  const api = await extension.activate();

  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise((r) => setTimeout(r, 2000));
  idle.disable();

  const runs = [];
  for (const count of connections) {
    await vscode.workspace.getConfiguration('resumableTransfers').update('connectionsPerDownload', count, vscode.ConfigurationTarget.Global);
    const busy = monitorEventLoopDelay({ resolution: 1 });
    busy.enable();
    const started = Date.now();
    const [id] = await api.download(url, { folder });
    const state = await new Promise<string>((resolve) => {
      const subscription = api.onDidChange((change) => {
        const s = change.snapshot?.record.state;
        if (change.id === id && (s === 'completed' || s === 'failed')) {
          subscription.dispose();
          resolve(s);
        }
      });
    });
    busy.disable();
    const seconds = (Date.now() - started) / 1000;
    runs.push({ connections: count, state, seconds, ...summary(busy) });
    await api.remove(id);
  }
  writeFileSync(process.env.BENCH_RESULT ?? 'bench-result.json', JSON.stringify({ idle: summary(idle), runs, node: process.version }, null, 2));
}
