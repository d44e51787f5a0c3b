import { parseHttpUrl } from '../core';

export interface ParsedUrlList {
  urls: string[];
  /** What the user typed that is not a URL, quoted back whole (not just its first word). */
  invalid?: string;
  /** URLs typed without a scheme, and the scheme we took them with. */
  assumed: Array<{ typed: string; url: string }>;
}

/** host[:port][/path…] without a scheme: localhost, an IPv4 or [IPv6] address, or a dotted name. */
const SCHEMELESS = /^(localhost|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,})(:\d{1,5})?(?:[/?#]\S*)?$/i;
const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(1[6-9]|2\d|3[01])\.\d+\.\d+|\[::1\])$/i;

/**
 * A URL typed without a scheme, taken as a browser's address bar would: `http://` for this
 * machine and private addresses (local servers rarely have certificates), `https://` for names.
 */
export function withAssumedScheme(text: string): string | undefined {
  const match = SCHEMELESS.exec(text);
  if (!match) return undefined;
  // A bare dotted word ("file.bin", "notes.md") is a file name, not a host: a name needs a port or a path.
  const isName = !/^(localhost|[\d.]+|\[.*\])$/i.test(match[1]);
  if (isName && match[2] === undefined && text.length === match[1].length) return undefined;
  const scheme = LOCAL_HOST.test(match[1]) ? 'http' : 'https';
  try {
    return parseHttpUrl(`${scheme}://${text}`).toString();
  } catch {
    return undefined;
  }
}

/** Splits input on whitespace; each piece is an http(s) URL, or one typed without its scheme. */
export function parseUrlList(text: string): ParsedUrlList {
  const urls: string[] = [];
  const assumed: ParsedUrlList['assumed'] = [];
  const pieces = text.split(/\s+/).filter(Boolean);
  for (const piece of pieces) {
    let url: string | undefined;
    try {
      url = parseHttpUrl(piece).toString();
    } catch {
      // "localhost:8080/x" parses as scheme "localhost:"; "example.com/a.zip" does not parse at all.
    }
    if (url === undefined) {
      url = withAssumedScheme(piece);
      if (url !== undefined) assumed.push({ typed: piece, url });
    }
    if (url === undefined) {
      // "not a url" is one thing the user typed, not three: quote all of it when nothing was a URL.
      const nothingValid = urls.length === 0 && pieces.slice(1).every((p) => !looksLikeUrl(p));
      return { urls, invalid: nothingValid ? text.trim() : piece, assumed };
    }
    urls.push(url);
  }
  return { urls, assumed };
}

function looksLikeUrl(piece: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(piece) || withAssumedScheme(piece) !== undefined;
}

/**
 * An http(s) URL in running text: up to whitespace, quotes or brackets, without the punctuation
 * that ends a sentence or closes markup around it (`(see https://x/a.zip).`, `<https://x>`).
 */
const URL_IN_TEXT = /https?:\/\/[^\s"'<>`()[\]{}]+/gi;

function trimTrailing(url: string): string {
  return url.replace(/[.,;:!?]+$/, '');
}

/** Every http(s) URL in the text, in order, each once. */
export function urlsInText(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const url = trimTrailing(match[0]);
    try {
      const normalized = parseHttpUrl(url).toString();
      if (!found.includes(normalized)) found.push(normalized);
    } catch {
      // Not a URL after all ("http://" alone).
    }
  }
  return found;
}

/** The http(s) URL that the position `character` of `line` is in, if any. */
export function urlAt(line: string, character: number): string | undefined {
  for (const match of line.matchAll(URL_IN_TEXT)) {
    const start = match.index ?? 0;
    const url = trimTrailing(match[0]);
    if (character >= start && character <= start + url.length) return urlsInText(url)[0];
  }
  return undefined;
}

/** URLs from a drop: `text/uri-list` (RFC 2483: one per line, `#` lines are comments) or plain text. */
export function urlsFromUriList(list: string): string[] {
  return urlsInText(
    list
      .split(/\r?\n/)
      .filter((line) => !line.startsWith('#'))
      .join('\n'),
  );
}
