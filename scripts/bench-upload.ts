/**
 * Upload throughput, side by side: our tus client vs tus-js-client (and `curl -T` with one PATCH as
 * a reference when curl is installed), against @tus/server + @tus/file-store on 127.0.0.1.
 * Prints MB/s (10^6 bytes per second) per run and the median of the runs; the clients alternate so
 * that neither always gets the warm (or cold) page cache.
 *
 *   npx tsx scripts/bench-upload.ts [--size-mib 256] [--runs 3]
 *
 * The server runs in a child process, so that no client shares its event loop with it. A script
 * that prints numbers, not a timed test: nothing fails on a slow machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Upload } from 'tus-js-client';
import { MemoryTransferStore, NodeFetchHttpClient, UploadTask, createUploadRecord } from '../src/core';
import { generateFile } from '../test/support/nginx';
import { startTusServer } from '../test/support/tus-server';

/** What the clients need to know about the server in the child process. */
interface BenchServer {
  endpoint: string;
  directory: string;
}

type Client = 'ours' | 'tus-js-client' | 'curl';

async function ours(server: BenchServer, file: string, run: number): Promise<void> {
  const http = new NodeFetchHttpClient();
  try {
    const record = await createUploadRecord({ id: `bench-${run}`, url: server.endpoint, file, now: Date.now() });
    await new UploadTask(record, { http, store: new MemoryTransferStore() }).run(new AbortController().signal);
  } finally {
    http.dispose();
  }
}

function tusJsClient(server: BenchServer, file: string, size: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const upload = new Upload(createReadStream(file), {
      endpoint: server.endpoint,
      uploadSize: size,
      metadata: { filename: path.basename(file) },
      retryDelays: [],
      onSuccess: () => resolve(),
      onError: reject,
    });
    upload.start();
  });
}

async function curl(server: BenchServer, file: string, size: number): Promise<void> {
  const created = await fetch(server.endpoint, {
    method: 'POST',
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(size) },
  });
  const location = new URL(created.headers.get('location') ?? '', server.endpoint).toString();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      'curl',
      ['-sS', '-o', '/dev/null', '-X', 'PATCH', '-T', file, '-H', 'Tus-Resumable: 1.0.0', '-H', 'Upload-Offset: 0', '-H', 'Content-Type: application/offset+octet-stream', '-H', 'Expect:', location],
      { stdio: 'inherit' },
    );
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`curl exited ${code}`))));
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Child mode: serve tus until stdin closes, announce the server as one JSON line. */
async function serve(): Promise<void> {
  const server = await startTusServer();
  process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, directory: server.directory })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
}

async function startServerProcess(): Promise<{ server: BenchServer; stop: () => void }> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', __filename, '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const server = await new Promise<BenchServer>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) resolve(JSON.parse(text.split('\n')[0]) as BenchServer);
    });
    child.once('exit', (code) => reject(new Error(`tus server process exited (${code})`)));
  });
  return { server, stop: () => child.stdin.end() };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'size-mib': { type: 'string' }, runs: { type: 'string' }, serve: { type: 'boolean' } } });
  if (values.serve) return serve();
  const size = Number(values['size-mib'] ?? 256) * 1024 * 1024;
  const runs = Number(values.runs ?? 3);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-bench-'));
  const { server, stop } = await startServerProcess();
  const stored = async (): Promise<number | undefined> => {
    const names = (await readdir(server.directory)).filter((name) => !name.endsWith('.json'));
    return names.length === 1 ? (await stat(path.join(server.directory, names[0]))).size : undefined;
  };
  try {
    const file = path.join(dir, 'payload.bin');
    await generateFile(file, size, 42);
    const clients: Client[] = ['ours', 'tus-js-client'];
    if (spawnSync('curl', ['--version']).status === 0) clients.push('curl');
    const results = new Map<Client, number[]>(clients.map((c) => [c, []]));
    console.log(`upload ${size / 1024 / 1024} MiB to @tus/server on 127.0.0.1, ${runs} runs, alternating order`);
    for (let run = 0; run < runs; run++) {
      const order = run % 2 === 0 ? clients : [...clients].reverse();
      for (const client of order) {
        const started = process.hrtime.bigint();
        if (client === 'ours') await ours(server, file, run);
        else if (client === 'tus-js-client') await tusJsClient(server, file, size);
        else await curl(server, file, size);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const held = await stored();
        if (held !== size) throw new Error(`${client}: server holds ${held} bytes, expected ${size}`);
        await rm(server.directory, { recursive: true, force: true });
        await mkdir(server.directory, { recursive: true });
        const mbps = size / 1e6 / seconds;
        results.get(client)?.push(mbps);
        console.log(`run ${run + 1}  ${client.padEnd(14)} ${seconds.toFixed(2).padStart(6)} s  ${mbps.toFixed(0).padStart(5)} MB/s`);
      }
    }
    console.log('median:');
    const reference = results.has('curl') ? median(results.get('curl') ?? []) : undefined;
    for (const [client, speeds] of results) {
      const m = median(speeds);
      const vsCurl = reference ? `  (${(reference / m).toFixed(2)}× curl's time)` : '';
      console.log(`  ${client.padEnd(14)} ${m.toFixed(0).padStart(5)} MB/s${vsCurl}`);
    }
  } finally {
    stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
