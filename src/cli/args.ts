import { parseArgs } from 'node:util';
import { parseHeaderLine } from '../core/http/header-line';
import { parseRate } from '../core/bandwidth/rate';

export const USAGE = `Usage:
  resumable-transfers get <url> [-o <path>] [--connections <n>] [--sha256 <hex>]
                      [--header "Name: value"]... [--retries <n>] [--stall-timeout <seconds>]
                      [--limit-rate <speed>] [--quiet]
                      [--no-checksum-discovery]

  -o, --output     final file path, or an existing folder (the name then comes from the server);
                   without -o the file goes into the current folder under the server's name
  --connections    connections per download (default 1)
  --sha256         expected sha256 of the file; a mismatch fails the download; wins over
                   every checksum the server offers
  --no-checksum-discovery
                   do not look for checksum files (<name>.sha256, SHA256SUMS, ...) beside the
                   download; digest headers are still checked
  --header         extra request header, may repeat (never saved to disk)
  --retries        retries after a failure without progress (default 5)
  --stall-timeout  seconds without data before the connection is dropped and resumed (default 30)
  --limit-rate     most bytes per second, as in curl: 500K, 4M, 1G (K = 1024); 0 = no limit

  resumable-transfers put <file> <url> [--protocol auto|tus|ietf|put-range|put]
                      [--chunk-size <bytes>] [--header "Name: value"]... [--retries <n>]
                      [--stall-timeout <seconds>] [--limit-rate <speed>]

  --protocol       auto (default) detects tus, the IETF resumable upload draft, WebDAV PUT with
                   Content-Range, or falls back to a plain PUT (which cannot resume)
  --chunk-size     bytes per request (default: tus and IETF the whole rest, put-range 16 MiB)

  -q, --quiet      no progress and no retry notices: only the result on stdout, errors on stderr
  -V, --version    print the version
  -h, --help       print this help

Re-running the same command after an interruption resumes the download or upload.
A new link for an unfinished download (get <new-url> -o <the same file>) continues it when the
link serves the same file, and refuses with ERR_NOT_SAME_FILE when it does not.`;

export class UsageError extends Error {}

export interface GetCommand {
  command: 'get';
  url: string;
  output: string;
  connections: number;
  sha256?: string;
  headers: Record<string, string>;
  retries: number;
  stallTimeoutSeconds: number;
  /** Bytes per second; 0 = no limit. */
  limitRate: number;
  /** For scripts: no progress line, no retry notices. */
  quiet: boolean;
  checksumDiscovery: boolean;
}

export const PROTOCOL_CHOICES = ['auto', 'tus', 'ietf', 'put-range', 'put'] as const;
export type ProtocolChoice = (typeof PROTOCOL_CHOICES)[number];

export interface PutCommand {
  command: 'put';
  file: string;
  url: string;
  protocol: ProtocolChoice;
  chunkSize?: number;
  headers: Record<string, string>;
  retries: number;
  stallTimeoutSeconds: number;
  /** Bytes per second; 0 = no limit. */
  limitRate: number;
  quiet: boolean;
}

export type CliCommand = GetCommand | PutCommand | { command: 'help' } | { command: 'version' };

function positiveInteger(value: string | undefined, name: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || (!allowZero && Number(value) === 0)) throw new UsageError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer`);
  return Number(value);
}

/** "Name: value" → [name, value]; header names are tokens (RFC 9110 §5.1). */
export function parseHeader(text: string): [string, string] {
  const line = parseHeaderLine(text);
  if (line.ok) return [line.name, line.value];
  if (line.reason === 'name') throw new UsageError(`bad header "${text}": expected "Name: value"`);
  throw new UsageError(`bad header "${text.slice(0, text.indexOf(':')).trim()}": line breaks are not allowed in a value`);
}

/** Every `--header` given, by name; a name given twice keeps its last value. */
function parseHeaders(texts: string[] = []): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const text of texts) {
    const [name, value] = parseHeader(text);
    headers[name] = value;
  }
  return headers;
}

export function parseCli(argv: string[]): CliCommand {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      connections: { type: 'string' },
      sha256: { type: 'string' },
      header: { type: 'string', multiple: true },
      retries: { type: 'string' },
      'stall-timeout': { type: 'string' },
      protocol: { type: 'string' },
      'chunk-size': { type: 'string' },
      'limit-rate': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      version: { type: 'boolean', short: 'V' },
      'no-checksum-discovery': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.version) return { command: 'version' };
  if (values.help || positionals.length === 0) return { command: 'help' };
  const [command, ...rest] = positionals;
  if (command === 'put') return parsePut(rest, values);
  if (values.protocol !== undefined || values['chunk-size'] !== undefined) throw new UsageError('--protocol and --chunk-size are options of put');
  if (command !== 'get') throw new UsageError(`unknown command "${command}"`);
  if (rest.length !== 1) throw new UsageError('get needs exactly one URL');
  if (values.output === '') throw new UsageError('-o needs a path');
  if (values.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(values.sha256)) throw new UsageError('--sha256 must be 64 hex digits');
  const headers = parseHeaders(values.header);
  return {
    command: 'get',
    url: rest[0],
    // Like wget and curl -OJ: into the current folder, under the name the server gives.
    output: values.output ?? '.',
    connections: positiveInteger(values.connections, '--connections', 1),
    sha256: values.sha256?.toLowerCase(),
    headers,
    retries: positiveInteger(values.retries, '--retries', 5, true),
    stallTimeoutSeconds: positiveInteger(values['stall-timeout'], '--stall-timeout', 30),
    limitRate: limitRate(values['limit-rate']),
    quiet: values.quiet ?? false,
    checksumDiscovery: !values['no-checksum-discovery'],
  };
}

/** curl's --limit-rate syntax: a byte count with an optional binary K/M/G/T suffix. */
function limitRate(value: string | undefined): number {
  if (value === undefined) return 0;
  const rate = parseRate(value);
  if (rate === undefined) throw new UsageError(`--limit-rate must be a speed such as 500K, 4M or 1G, not "${value}"`);
  return rate;
}

function parsePut(
  rest: string[],
  values: {
    output?: string;
    connections?: string;
    sha256?: string;
    header?: string[];
    retries?: string;
    'stall-timeout'?: string;
    protocol?: string;
    'chunk-size'?: string;
    'limit-rate'?: string;
    quiet?: boolean;
    'no-checksum-discovery'?: boolean;
  },
): PutCommand {
  if (rest.length !== 2) throw new UsageError('put needs a file and a URL');
  if (values.output !== undefined || values.connections !== undefined || values.sha256 !== undefined || values['no-checksum-discovery'] !== undefined) {
    throw new UsageError('-o, --connections, --sha256 and --no-checksum-discovery are options of get');
  }
  const protocol = values.protocol ?? 'auto';
  if (!(PROTOCOL_CHOICES as readonly string[]).includes(protocol)) throw new UsageError(`--protocol must be one of ${PROTOCOL_CHOICES.join(', ')}`);
  const headers = parseHeaders(values.header);
  return {
    command: 'put',
    file: rest[0],
    url: rest[1],
    protocol: protocol as ProtocolChoice,
    chunkSize: values['chunk-size'] === undefined ? undefined : positiveInteger(values['chunk-size'], '--chunk-size', 0),
    headers,
    retries: positiveInteger(values.retries, '--retries', 5, true),
    stallTimeoutSeconds: positiveInteger(values['stall-timeout'], '--stall-timeout', 30),
    limitRate: limitRate(values['limit-rate']),
    quiet: values.quiet ?? false,
  };
}
