import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  AbortError,
  BandwidthLimits,
  DEFAULT_RETRY_POLICY,
  DownloadTask,
  JsonFileTransferStore,
  TransferError,
  createHttpStack,
  headersForOrigin,
  type HttpStack,
  formatBytes,
  formatDuration,
  formatPercent,
  finishCompletedDownload,
  formatSpeed,
  newDownloadRecord,
  transferName,
  parseHttpUrl,
  redactText,
  splitUrlCredentials,
  type DownloadProgress,
  type Event,
  type TransferProgress,
  type TransferRecord,
  type TransferStore,
  type DownloadRecord,
  type Logger,
  UploadTask,
  createUploadRecord,
  type UploadRecord,
  describeDigest,
  checkLink,
  continueWithLink,
  describeDifferences,
  downloadedBytes,
  claimHolder,
  partPathFor,
  runningElsewhereError,
} from '../core';
import { USAGE, UsageError, parseCli, type GetCommand, type PutCommand } from './args';
import { CommandClaim } from './claim';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

/** The id of `get`'s record for `url` saved to the absolute path `output`. */
export function downloadRecordId(url: string, output: string): string {
  return createHash('sha256').update(`${url}\n${output}`).digest('hex').slice(0, 16);
}

/** Where the CLI keeps the resumable record: beside the download, keyed by URL and output. */
async function resolveOutput(command: GetCommand): Promise<{ targetDir: string; target?: string; storePath: string; id: string }> {
  const output = path.resolve(command.output);
  const stat = await fs.stat(output).catch(() => undefined);
  const isDir = stat?.isDirectory() ?? false;
  const id = downloadRecordId(command.url, output);
  const targetDir = isDir ? output : path.dirname(output);
  return { targetDir, target: isDir ? undefined : output, storePath: path.join(targetDir, `.${id}.transfer.json`), id };
}

/** Set by the bundler (esbuild `define`); running from source says "dev". */
declare const CLI_VERSION: string | undefined;
export const VERSION = typeof CLI_VERSION === 'string' ? CLI_VERSION : 'dev';

/**
 * Notices on stderr. The engine tags its lines with the transfer id, which means nothing to the
 * user: the file's name stands in its place. Quiet shows none; verbose shows every level.
 */
export function stderrLogger(options: { verbose: boolean; quiet: boolean; id: string; name: () => string }, write = (line: string) => void process.stderr.write(line)): Logger {
  const tag = `[${options.id}]`;
  const line = (level: string) => (message: string) => {
    if (options.quiet && !options.verbose) return;
    if (options.verbose || level === 'warn' || level === 'error') write(`${level}: ${redactText(message).split(tag).join(`${options.name()}:`)}\n`);
  };
  return { trace() {}, debug: line('debug'), info: line('info'), warn: line('warn'), error() {} };
}

function progressLine(progress: DownloadProgress): string {
  const parts = [formatPercent(progress.bytes, progress.length) ?? '', formatBytes(progress.bytes)];
  if (progress.length !== undefined) parts.push(`of ${formatBytes(progress.length)}`);
  parts.push(formatSpeed(progress.bytesPerSecond));
  if (progress.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(progress.etaSeconds)}`);
  return parts.filter(Boolean).join('  ');
}

/**
 * Runs a transfer to its end the way both commands promise: progress on a terminal, Ctrl-C or
 * SIGTERM stops it resumably, one `error CODE: message` line on failure, the result on stdout.
 */
async function runToExit<T extends TransferRecord>(
  task: { run(signal: AbortSignal): Promise<T>; onProgress: Event<TransferProgress> },
  claim: CommandClaim,
  id: string,
  result: (done: T) => string,
  quiet: boolean,
): Promise<number> {
  if (process.stderr.isTTY && !quiet) {
    task.onProgress((progress) => process.stderr.write(`\r\x1b[K${progressLine(progress)}`));
  }
  const controller = new AbortController();
  const watching = claim.watch(controller);
  const stop = () => controller.abort(new AbortError('shutdown'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const done = await task.run(controller.signal);
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    await claim.store.delete(id);
    process.stdout.write(`${result(done)}\n`);
    return 0;
  } catch (error) {
    if (process.stderr.isTTY) process.stderr.write('\n');
    const lost = claim.claim.lost;
    if (lost) {
      process.stderr.write(`error ${lost.code}: ${lost.message}\n`);
      return EXIT_FAILED;
    }
    if (error instanceof AbortError) {
      process.stderr.write('error ERR_ABORTED: interrupted; run the same command again to resume\n');
      return EXIT_INTERRUPTED;
    }
    const failure = error instanceof TransferError ? error : new TransferError('ERR_INTERNAL', String(error));
    process.stderr.write(`error ${failure.code}: ${failure.message}\n`);
    return EXIT_FAILED;
  } finally {
    watching.dispose();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** Runs `work` while holding the claim on record `id` (ERR_RUNNING_ELSEWHERE when another run holds it). */
async function whileClaimed(storePath: string, id: string, work: (claim: CommandClaim, records: TransferStore) => Promise<number>): Promise<number> {
  const records = new JsonFileTransferStore(storePath);
  const claim = new CommandClaim(storePath, records);
  try {
    await claim.acquire(id);
    return await work(claim, records);
  } finally {
    await claim.release();
  }
}

/**
 * `user:password@` in the URL becomes an Authorization header for this run only, so the record
 * file next to the download never holds the password. An explicit --header Authorization wins.
 */
function withoutUrlCredentials<T extends GetCommand | PutCommand>(command: T): T {
  const { url, authorization } = splitUrlCredentials(command.url);
  if (!authorization) return command;
  const explicit = Object.keys(command.headers).some((name) => name.toLowerCase() === 'authorization');
  return { ...command, url, headers: explicit ? command.headers : { Authorization: authorization, ...command.headers } };
}

/** What both commands take from the command line the same way; `name` says which file notices are about. */
function taskOptions(command: GetCommand | PutCommand, id: string, name: () => string) {
  return {
    logger: stderrLogger({ verbose: process.env.RESUMABLE_TRANSFERS_VERBOSE === '1', quiet: command.quiet, id, name }),
    retry: { ...DEFAULT_RETRY_POLICY, retries: command.retries },
    stallTimeoutMs: command.stallTimeoutSeconds * 1000,
    // --header values belong to the URL's origin: a redirect elsewhere never receives them.
    headers: headersForOrigin(command.url, command.headers),
    bandwidth: new BandwidthLimits(command.limitRate).gateFor('cli'),
  };
}

/**
 * The same stack the editor builds, from the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY;
 * NODE_EXTRA_CA_CERTS through Node). A proxy it cannot use is reported once on stderr.
 */
function httpStack(responseTimeoutMs: number): HttpStack {
  const stack = createHttpStack({
    proxy: { strictSSL: true, noProxy: [], useEnvironment: true },
    connectTimeoutMs: 30_000,
    responseTimeoutMs,
  });
  for (const problem of stack.problems) process.stderr.write(`warning ${problem.error.code}: ${problem.error.message}\n`);
  return stack;
}

async function get(command: GetCommand): Promise<number> {
  parseHttpUrl(command.url);
  const { targetDir, target, storePath, id } = await resolveOutput(command);
  const adoptable = target ? await findUnfinishedDownload(targetDir, target, id) : undefined;
  return whileClaimed(storePath, id, async (claim, records) => {
    const existing = (await records.get(id)) as DownloadRecord | undefined;
    if (existing?.kind === 'download' && (await finishCompletedDownload(existing))) {
      // The previous run finished the file but was stopped before it removed its record and claims.
      await claim.removeStale(existing);
      await claim.store.delete(id);
      process.stdout.write(`${existing.target}\n`);
      return 0;
    }
    // `get <new-url> -o <unfinished file>`: the unfinished download is continued or refused, never doubled.
    if (!existing && adoptable) return adoptUnfinished(command, adoptable);
    const record =
      existing && existing.kind === 'download' && existing.state !== 'completed'
        ? { ...existing, sha256: command.sha256 ?? existing.sha256 }
        : newDownloadRecord({ id, url: command.url, targetDir, target, sha256: command.sha256, connections: command.connections, now: Date.now() });
    const network = httpStack(60_000);
    try {
      return await runDownload(command, record, claim, id, network);
    } finally {
      network.dispose();
    }
  });
}

/** Runs a download record to its end under `claim`; which source vouched for the bytes goes to stderr. */
async function runDownload(command: GetCommand, record: DownloadRecord, claim: CommandClaim, id: string, network: HttpStack): Promise<number> {
  const task: DownloadTask = new DownloadTask(record, {
    http: network.http,
    store: claim.store,
    guard: claim.guard,
    ...taskOptions(command, id, () => transferName(task.record)),
    checksumDiscovery: command.checksumDiscovery,
  });
  const result = (done: DownloadRecord) => {
    // stdout stays the path alone, for scripts.
    if (!command.quiet) for (const digest of done.verified ?? []) process.stderr.write(`verified ${describeDigest(digest)}\n`);
    return done.target ?? '';
  };
  return runToExit(task, claim, id, result, command.quiet);
}

/**
 * Another command's unfinished download of exactly `target` (its record lies beside it under
 * another URL's id): the download a new link for the same file should continue.
 */
async function findUnfinishedDownload(targetDir: string, target: string, ownId: string): Promise<{ storePath: string; id: string; target: string } | undefined> {
  const names = await fs.readdir(targetDir).catch(() => [] as string[]);
  for (const name of names) {
    const id = /^\.([0-9a-f]{16})\.transfer\.json$/.exec(name)?.[1];
    if (!id || id === ownId) continue;
    const storePath = path.join(targetDir, name);
    const record = await new JsonFileTransferStore(storePath).get(id).catch(() => undefined);
    if (record?.kind === 'download' && record.state !== 'completed' && record.target === target) return { storePath, id, target };
  }
  return undefined;
}

/**
 * Continues another command's unfinished download of the same file from the new link, once the
 * link is shown to serve that file: the same length and strong validator, or the same digest;
 * with nothing to compare, the bytes on disk are checked against the new link's before anything
 * is appended. A link to another file fails with ERR_NOT_SAME_FILE and leaves the download as it was.
 */
async function adoptUnfinished(command: GetCommand, found: { storePath: string; id: string; target: string }): Promise<number> {
  // Another command writing that file right now: say which file is busy, not which record.
  const part = partPathFor(found.target);
  const writer = await claimHolder(part, { owner: 'command line' }).catch(() => undefined);
  if (writer) throw runningElsewhereError(writer, path.basename(part));
  return whileClaimed(found.storePath, found.id, async (claim, records) => {
    const record = (await records.get(found.id)) as DownloadRecord | undefined;
    if (record?.kind !== 'download' || record.state === 'completed') throw new TransferError('ERR_RECORD_INVALID', 'the unfinished download changed while it was read');
    const network = httpStack(60_000);
    try {
      const name = transferName(record);
      const logger = taskOptions(command, found.id, () => name).logger;
      // A run stopped after it adopted the download already made the new link its own.
      let next = record;
      if (record.url !== command.url) {
        const comparison = await checkLink(network.http, record, command.url, { originHeaders: headersForOrigin(command.url, command.headers), logger, tag: `[${found.id}]` });
        const have = `${formatBytes(downloadedBytes(record))}${record.length !== undefined ? ` of ${formatBytes(record.length)}` : ''}`;
        if (comparison.verdict === 'different') {
          throw new TransferError(
            'ERR_NOT_SAME_FILE',
            `${record.target} is an unfinished download of another file (${have} so far): the new link has a different ${describeDifferences(comparison.differs)}. ` +
              'It was left as it is; give another -o to download the new file.',
          );
        }
        const why = comparison.verdict === 'same' ? `the same file (same ${comparison.proof === 'digest' ? 'digest' : 'length and validator'})` : 'nothing to compare, so the bytes on disk are checked first';
        if (!command.quiet) process.stderr.write(`adopting the unfinished download of ${name} (${have}) with the new link: ${why}\n`);
        next = continueWithLink(record, comparison);
      }
      return await runDownload(command, { ...next, sha256: command.sha256 ?? next.sha256 }, claim, found.id, network);
    } finally {
      network.dispose();
    }
  });
}

/** Where `put` keeps its resumable record: beside the source file, keyed by file and URL. */
export function uploadRecordLocation(file: string, url: string): { source: string; storePath: string; id: string } {
  const source = path.resolve(file);
  const id = createHash('sha256').update(`put\n${url}\n${source}`).digest('hex').slice(0, 16);
  return { source, storePath: path.join(path.dirname(source), `.${id}.transfer.json`), id };
}

async function put(command: PutCommand): Promise<number> {
  parseHttpUrl(command.url);
  const { source, storePath, id } = uploadRecordLocation(command.file, command.url);
  return whileClaimed(storePath, id, async (claim, records) => {
    const existing = (await records.get(id)) as UploadRecord | undefined;
    const forced = command.protocol === 'auto' ? undefined : command.protocol;
    const reusable = existing && existing.kind === 'upload' && existing.state !== 'completed' && (!forced || existing.protocol === forced);
    const record: UploadRecord = reusable
      ? { ...existing, chunkSize: command.chunkSize ?? existing.chunkSize }
      : await createUploadRecord({ id, url: command.url, file: source, protocol: command.protocol, chunkSize: command.chunkSize, now: Date.now() });

    // No response timeout of the client's own: the upload watchdog times the wait after the body.
    const network = httpStack(120_000);
    const task = new UploadTask(record, { http: network.http, store: claim.store, ...taskOptions(command, id, () => transferName(record)) });
    try {
      return await runToExit(task, claim, id, (done) => done.uploadUrl ?? done.url, command.quiet);
    } finally {
      network.dispose();
    }
  });
}

export async function main(argv: string[]): Promise<number> {
  try {
    const command = parseCli(argv);
    if (command.command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (command.command === 'version') {
      process.stdout.write(`resumable-transfers ${VERSION}\n`);
      return 0;
    }
    const safe = withoutUrlCredentials(command);
    return safe.command === 'put' ? await put(safe) : await get(safe);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${(error as Error).message}\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof TransferError) {
      process.stderr.write(`error ${error.code}: ${error.message}\n`);
      return error.code === 'ERR_INVALID_URL' || error.code === 'ERR_UNSUPPORTED_PROTOCOL' ? EXIT_USAGE : EXIT_FAILED;
    }
    process.stderr.write(`error: ${String(error)}\n`);
    return EXIT_FAILED;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
