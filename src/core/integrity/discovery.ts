import type { Readable } from 'node:stream';
import { redactUrl } from '../errors';
import type { HttpClient, OriginHeaders } from '../http/client';
import type { Logger } from '../logger';
import { entriesFor, parseChecksumFile } from './checksum-file';
import type { ExpectedDigest } from './digest';

/**
 * Looks for checksum files published beside a download: `<name>.sha256`, `<name>.sha256sum`,
 * `<name>.sha512`, and the usual sums files of the folder. A few small GET requests, all at once,
 * inside one time-box and a size cap; every failure is only logged. It never throws.
 */
export interface DiscoveryOptions {
  http: HttpClient;
  /** The URL the user gave (its folder is where projects publish sums, not a CDN's signed target). */
  url: string;
  /** Names the file goes by (URL name, Content-Disposition name, the name on disk). */
  names: readonly string[];
  /** The user's headers per origin: the HTTP client sends each only to its own origin. */
  headers?: OriginHeaders;
  logger: Logger;
  tag: string;
  /** Everything is given up after this long (default 5 s). */
  timeBoxMs?: number;
  /** A checksum file larger than this is skipped (default 1 MiB). */
  maxBytes?: number;
  signal: AbortSignal;
}

export const SUMS_FILES = ['SHA256SUMS', 'SHA256SUMS.txt', 'sha256sums.txt', 'checksums.txt', 'SHASUMS256.txt'] as const;
export const SIDECAR_SUFFIXES = ['.sha256', '.sha256sum', '.sha512'] as const;

const DEFAULT_TIME_BOX_MS = 5_000;
const DEFAULT_MAX_BYTES = 1024 * 1024;

interface Candidate {
  file: string;
  /** A sidecar file is about this one download: a bare value in it counts. */
  sidecar: boolean;
}

/** The last path segment of a URL, decoded ('' for a folder URL). */
export function urlFileName(url: string): string {
  try {
    const segment = new URL(url).pathname.split('/').pop() ?? '';
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}

export function checksumCandidates(names: readonly string[]): Candidate[] {
  const sidecars = names.flatMap((name) => SIDECAR_SUFFIXES.map((suffix) => ({ file: `${name}${suffix}`, sidecar: true })));
  return [...sidecars, ...SUMS_FILES.map((file) => ({ file, sidecar: false }))];
}

export async function discoverChecksums(options: DiscoveryOptions): Promise<ExpectedDigest[]> {
  const { logger, tag } = options;
  const names = [...new Set(options.names.filter((name) => name && !name.includes('/')))];
  let base: URL;
  try {
    base = new URL(options.url);
    base.search = '';
    base.hash = '';
  } catch {
    return [];
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal.reason);
  options.signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort('time-box'), options.timeBoxMs ?? DEFAULT_TIME_BOX_MS);
  const found: ExpectedDigest[] = [];
  try {
    await Promise.all(
      checksumCandidates(names).map(async (candidate) => {
        const url = new URL(encodeURIComponent(candidate.file), base).toString();
        const outcome = await fetchChecksumFile(options, url, controller.signal).catch((error: unknown) => ({
          missing: `failed (${errorText(error, controller.signal)})`,
        }));
        if ('missing' in outcome) {
          logger.debug(`${tag} checksum ${redactUrl(url)}: ${outcome.missing}`);
          return;
        }
        const entries = entriesFor(parseChecksumFile(outcome.text), names, candidate.sidecar);
        if (entries.length === 0) {
          logger.info(`${tag} checksum file ${candidate.file} found, but it lists no value for ${names.join(' / ')}`);
          return;
        }
        for (const entry of entries) {
          logger.info(`${tag} checksum file ${candidate.file}: ${entry.algorithm} ${entry.hex}`);
          found.push({ algorithm: entry.algorithm, hex: entry.hex, source: candidate.file });
        }
      }),
    );
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', onAbort);
  }
  return found;
}

function errorText(error: unknown, signal: AbortSignal): string {
  if (signal.aborted && signal.reason === 'time-box') return 'time-box over';
  return error instanceof Error ? error.message : String(error);
}

/** The file's text, or a short reason why there is none. */
async function fetchChecksumFile(options: DiscoveryOptions, url: string, signal: AbortSignal): Promise<{ text: string } | { missing: string }> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const response = await options.http.request(url, { originHeaders: options.headers, signal });
  try {
    if (response.status !== 200) return { missing: `${response.status}` };
    const announced = Number(response.headers.get('content-length') ?? NaN);
    if (announced > maxBytes) return { missing: `too large (${announced} bytes)` };
    const text = await readCapped(response.body, maxBytes);
    return text === undefined ? { missing: `too large (over ${maxBytes} bytes)` } : { text };
  } finally {
    response.discard();
  }
}

async function readCapped(body: Readable, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
