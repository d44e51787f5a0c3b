/**
 * Reads a command copied with a browser's "Copy as cURL" (Chrome, Edge, Firefox, Safari; bash or
 * Windows cmd quoting) and keeps what a download needs: the URL, the headers, the cookies and the
 * user:password. Everything else (compression, timeouts, output) is ours to decide, and is
 * ignored. Pure: tokenizing and option rules have a table test.
 */
export interface CurlDownload {
  url: string;
  /** Headers to send, in the order given; cookies are one `Cookie` header. */
  headers: [string, string][];
}

/** Why a command cannot be downloaded, as a code a UI can put in the user's language. */
export type CurlRefusal = 'syntax' | 'not-curl' | 'body' | 'method' | 'no-url' | 'not-http';

export class CurlParseError extends Error {
  constructor(
    readonly reason: CurlRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** True when the text is meant as a curl command (possibly `curl.exe`, possibly indented). */
export function looksLikeCurl(text: string): boolean {
  return /^\s*curl(\.exe)?\s/i.test(text);
}

/** Options that take a value and that we take. */
const TAKEN = new Map<string, 'url' | 'header' | 'cookie' | 'user' | 'referer' | 'method'>([
  ['--url', 'url'],
  ['-H', 'header'],
  ['--header', 'header'],
  ['-b', 'cookie'],
  ['--cookie', 'cookie'],
  ['-u', 'user'],
  ['--user', 'user'],
  ['-e', 'referer'],
  ['--referer', 'referer'],
  ['-X', 'method'],
  ['--request', 'method'],
]);

/** Options that take a value we do not use: skip the value too. */
const SKIPPED_WITH_VALUE = new Set([
  '-A', '--user-agent', '-o', '--output', '-m', '--max-time', '--connect-timeout', '--retry', '--retry-delay', '--retry-max-time',
  '-x', '--proxy', '-U', '--proxy-user', '--cacert', '--capath', '-E', '--cert', '--key', '-c', '--cookie-jar', '-r', '--range',
  '-w', '--write-out', '--limit-rate', '-y', '--speed-time', '-Y', '--speed-limit', '--resolve', '--connect-to', '--interface',
  '--max-redirs', '-z', '--time-cond', '--dns-servers', '--proto', '--proto-redir', '-C', '--continue-at',
]);

/** A body or form means the browser sent a request a download cannot repeat. */
const BODY_OPTIONS = new Set(['-d', '--data', '--data-raw', '--data-binary', '--data-urlencode', '--data-ascii', '-F', '--form', '--json', '-T', '--upload-file']);

/**
 * Headers we never copy: we set them per request (ranges, encoding, validators), or they describe
 * the browser's connection, or they would turn a download into a conditional 304.
 */
const DROPPED_HEADERS = new Set([
  'host', 'connection', 'content-length', 'range', 'if-range', 'accept-encoding', 'te', 'upgrade', 'keep-alive',
  'transfer-encoding', 'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'proxy-connection', 'priority',
]);

/** Parses the command; throws CurlParseError with a reason a person can act on. */
export function parseCurlCommand(text: string): CurlDownload {
  const args = tokenize(text);
  if (!/^curl(\.exe)?$/i.test(args[0] ?? '')) throw new CurlParseError('not-curl', 'not a curl command');
  let url: string | undefined;
  let method: string | undefined;
  const headers: [string, string][] = [];
  const cookies: string[] = [];
  for (let i = 1; i < args.length; i++) {
    const arg = args[i];
    const { option, attached } = splitOption(arg);
    if (option && BODY_OPTIONS.has(option)) throw new CurlParseError('body', 'the command sends a request body (a form or data): only a plain GET can be downloaded');
    const kind = option ? TAKEN.get(option) : undefined;
    if (kind) {
      const value = attached ?? args[++i];
      if (value === undefined) throw new CurlParseError('syntax', `${option} needs a value`);
      if (kind === 'url') url = value;
      else if (kind === 'method') method = value.toUpperCase();
      else if (kind === 'header') addHeader(headers, cookies, value);
      else if (kind === 'cookie') {
        // Without "=" it names a cookie file, which is on another machine than the browser's.
        if (value.includes('=')) cookies.push(value.trim());
      } else if (kind === 'referer') headers.push(['Referer', value]);
      else headers.push(['Authorization', basicAuth(value)]);
      continue;
    }
    if (option && SKIPPED_WITH_VALUE.has(option)) {
      if (attached === undefined) i++;
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) continue; // --compressed, -L, -k, -sS, --http2, …
    if (url === undefined) url = arg;
  }
  if (method !== undefined && method !== 'GET') throw new CurlParseError('method', `the command is a ${method} request: only a plain GET can be downloaded`);
  if (!url) throw new CurlParseError('no-url', 'the command has no URL');
  if (!/^https?:\/\//i.test(url)) throw new CurlParseError('not-http', `not an http or https URL: ${url}`);
  if (cookies.length > 0) headers.push(['Cookie', cookies.join('; ')]);
  return { url, headers };
}

/** `-Hvalue` and `--header=value` carry their value in the same word. */
function splitOption(arg: string): { option?: string; attached?: string } {
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    return eq > 0 ? { option: arg.slice(0, eq), attached: arg.slice(eq + 1) } : { option: arg };
  }
  if (/^-[A-Za-z]/.test(arg)) {
    const short = arg.slice(0, 2);
    if (arg.length > 2 && (TAKEN.has(short) || SKIPPED_WITH_VALUE.has(short) || BODY_OPTIONS.has(short))) return { option: short, attached: arg.slice(2) };
    return { option: arg };
  }
  return {};
}

function addHeader(headers: [string, string][], cookies: string[], line: string): void {
  const colon = line.indexOf(':');
  // "Name;" is curl's way to send an empty header; "Name:" removes one. Neither carries anything.
  if (colon <= 0) return;
  const name = line.slice(0, colon).trim();
  const value = line.slice(colon + 1).trim();
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || value === '' || /[\r\n\0]/.test(value)) return;
  const lower = name.toLowerCase();
  if (DROPPED_HEADERS.has(lower)) return;
  if (lower === 'cookie') cookies.push(value);
  else headers.push([name, value]);
}

function basicAuth(userPassword: string): string {
  return `Basic ${Buffer.from(userPassword, 'utf8').toString('base64')}`;
}

/**
 * Splits the command into arguments as the shell it was copied for would. Windows cmd flavour
 * (Chrome's "Copy as cURL (cmd)") escapes with `^` and continues lines with `^`; bash flavour
 * uses '…', "…", $'…' and `\` continuations.
 */
export function tokenize(text: string): string[] {
  const cmd = /\^\r?\n|\^"/.test(text);
  return cmd ? tokenizeCmd(text) : tokenizeBash(text);
}

function tokenizeBash(text: string): string[] {
  const args: string[] = [];
  let current = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) {
      i += text[i + 1] === '\r' ? 2 : 1;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) args.push(current);
      current = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new CurlParseError('syntax', 'unclosed single quote');
      current += text.slice(i + 1, end);
      i = end;
    } else if (c === '$' && text[i + 1] === "'") {
      const [value, end] = ansiC(text, i + 2);
      current += value;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && '$`"\\\n'.includes(text[j + 1] ?? '')) {
          if (text[j + 1] !== '\n') current += text[j + 1];
          j++;
        } else current += text[j];
      }
      if (j >= text.length) throw new CurlParseError('syntax', 'unclosed double quote');
      i = j;
    } else if (c === '\\') {
      current += text[i + 1] ?? '';
      i++;
    } else current += c;
  }
  if (inWord) args.push(current);
  return args;
}

/** $'…' (bash ANSI-C quoting, which Chrome uses when a value holds a quote or a control character). */
function ansiC(text: string, start: number): [string, number] {
  let out = '';
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', e: '\x1b', f: '\f', v: '\v', '?': '?' };
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === "'") return [out, i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = text[i + 1] ?? '';
    if (next in simple) {
      out += simple[next];
      i++;
    } else if (next === 'x' || next === 'u' || next === 'U') {
      const digits = /^[0-9a-fA-F]+/.exec(text.slice(i + 2, i + 2 + (next === 'x' ? 2 : next === 'u' ? 4 : 8)))?.[0] ?? '';
      out += digits ? String.fromCodePoint(parseInt(digits, 16)) : `\\${next}`;
      i += 1 + digits.length;
    } else if (/[0-7]/.test(next)) {
      const digits = /^[0-7]{1,3}/.exec(text.slice(i + 1))?.[0] as string;
      out += String.fromCharCode(parseInt(digits, 8));
      i += digits.length;
    } else {
      out += `\\${next}`;
      i++;
    }
  }
  throw new CurlParseError('syntax', "unclosed $' quote");
}

/**
 * cmd.exe: `^` escapes the next character (and `^` at a line end continues the line); what reaches
 * curl is then split by the C runtime's rules: "…" groups, \" is a literal quote.
 */
function tokenizeCmd(text: string): string[] {
  const unescaped = text.replace(/\^\r?\n/g, ' ').replace(/\^([\s\S])/g, '$1');
  const args: string[] = [];
  let current = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < unescaped.length; i++) {
    const c = unescaped[i];
    if (!quoted && /\s/.test(c)) {
      if (inWord) args.push(current);
      current = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '\\' && unescaped[i + 1] === '"') {
      current += '"';
      i++;
    } else if (c === '"') quoted = !quoted;
    else current += c;
  }
  if (quoted) throw new CurlParseError('syntax', 'unclosed double quote');
  if (inWord) args.push(current);
  return args;
}
