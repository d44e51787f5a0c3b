import * as path from 'node:path';
import { neutralizeServerName } from './auto-loaded-names';
import { parseContentDispositionFilename } from './http/content-disposition';

const DEFAULT_FALLBACK = 'download';

/**
 * 255 bytes is the per-component limit on ext4/APFS/NTFS; 200 leaves room for ` (9999)`
 * collision suffixes and a `.part` style temp suffix without ever hitting ENAMETOOLONG.
 */
const MAX_NAME_BYTES = 200;

/** An "extension" longer than this is just a dot in a long name, not something worth keeping. */
const MAX_EXT_BYTES = 32;

const MAX_COLLISION_INDEX = 9999;

// Control characters can't appear in Windows names and make terminal output lie on Unix.
// eslint-disable-next-line no-control-regex -- matching control chars is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

// Bidi overrides/isolates let `evil\u202Egnp.exe` display as `evilexe.png`.
const BIDI_CHARS = /[\u202a-\u202e\u2066-\u2069]/g;

// Unpaired surrogates cannot be encoded as UTF-8 (or NTFS names reliably); make them visible.
const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const WINDOWS_FORBIDDEN = /[<>:"|?*]/g;

/**
 * Windows device names are reserved with any extension (`con.txt` opens the console) and
 * regardless of trailing spaces before the dot. Beyond CON/PRN/AUX/NUL/COM1–9/LPT1–9 we also
 * cover COM0/LPT0, the superscript-digit variants (¹²³) and CONIN$/CONOUT$, which current
 * Windows versions reserve too; prefixing an extra name with `_` is harmless.
 */
const WINDOWS_RESERVED = /^(?:con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$)$/i;

/** Multi-part extensions that should stay together when numbering or truncating. */
const COMPOUND_EXTS = /\.tar\.(?:gz|xz|bz2|zst)$/i;

/**
 * Makes a server-supplied name safe as a single file name in any folder on Windows, macOS and
 * Linux: keeps only the last path component (split on / and \), removes control chars
 * (U+0000–U+001F, U+007F) and bidi override chars (U+202A–U+202E, U+2066–U+2069), replaces
 * <>:"|?* with _, trims leading/trailing whitespace and trailing dots/spaces, prefixes reserved
 * Windows device names (CON, PRN, AUX, NUL, COM1–9, LPT1–9, case-insensitive, with or without
 * extension) with _, rejects '', '.', '..' (→ fallback), truncates to at most 200 UTF-8 bytes
 * keeping the extension and never splitting a code point. Returns `fallback` (default
 * 'download') when nothing usable remains. The fallback itself is returned as given.
 */
export function sanitizeFilename(name: string, fallback: string = DEFAULT_FALLBACK): string {
  if (typeof name !== 'string') {
    return fallback;
  }

  // Both separators, whatever the current OS: a name valid on Linux may be opened on Windows.
  // Last *non-empty* segment so that `dir/` still yields `dir`.
  const segments = name.split(/[/\\]/).filter((s) => s !== '');
  let result = segments.length > 0 ? segments[segments.length - 1] : '';

  result = result
    .replace(CONTROL_CHARS, '')
    .replace(BIDI_CHARS, '')
    .replace(LONE_SURROGATES, '\ufffd')
    .replace(WINDOWS_FORBIDDEN, '_');

  result = trimName(result);

  if (isReservedWindowsName(result)) {
    result = `_${result}`;
  }

  result = truncateName(result, MAX_NAME_BYTES);
  // Truncation may expose trailing dots/spaces again (only possible without an extension).
  result = trimName(result);

  if (result === '' || result === '.' || result === '..') {
    return fallback;
  }
  return result;
}

/** Leading/trailing whitespace, then trailing dots and spaces (Windows silently drops those). */
function trimName(s: string): string {
  const trimmed = s.trim();
  // A loop rather than /[\s.]+$/, which backtracks quadratically on long runs of dots/spaces
  // that are not at the end (the name comes from an untrusted header).
  let end = trimmed.length;
  while (end > 0 && (trimmed[end - 1] === '.' || /\s/.test(trimmed[end - 1]))) {
    end--;
  }
  return trimmed.slice(0, end);
}

function isReservedWindowsName(name: string): boolean {
  // Windows looks at the part before the first dot, ignoring trailing spaces (`CON .txt`).
  const stem = name.split('.')[0].replace(/ +$/, '');
  return WINDOWS_RESERVED.test(stem);
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Longest prefix of `s` that fits in `maxBytes` UTF-8 bytes, cut on a code point boundary. */
function truncateToBytes(s: string, maxBytes: number): string {
  if (utf8Length(s) <= maxBytes) {
    return s;
  }
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const len = utf8Length(ch);
    if (bytes + len > maxBytes) {
      break;
    }
    out += ch;
    bytes += len;
  }
  return out;
}

/**
 * Splits `name` into stem and extension: `a.txt` → [`a`, `.txt`], `x.tar.gz` → [`x`, `.tar.gz`],
 * `.bashrc` → [`.bashrc`, ``] (a leading dot marks a dotfile, not an extension), `README` →
 * [`README`, ``].
 */
function splitExtension(name: string): [string, string] {
  const compound = COMPOUND_EXTS.exec(name);
  if (compound && compound.index > 0) {
    return [name.slice(0, compound.index), name.slice(compound.index)];
  }
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) {
    return [name, ''];
  }
  return [name.slice(0, dot), name.slice(dot)];
}

/** Truncates the stem so that stem + ext fits, keeping a plausible extension intact. */
function truncateName(name: string, maxBytes: number): string {
  if (utf8Length(name) <= maxBytes) {
    return name;
  }
  const [stem, ext] = splitExtension(name);
  const extBytes = utf8Length(ext);
  if (ext === '' || extBytes > MAX_EXT_BYTES) {
    return truncateToBytes(name, maxBytes);
  }
  return truncateToBytes(stem, maxBytes - extBytes) + ext;
}

/** Last non-empty path segment of the URL, percent-decoded (undefined if it decodes badly or is empty). */
export function filenameFromUrl(url: string | URL): string | undefined {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return undefined;
  }
  // Splitting the *encoded* pathname first means `%2F` stays inside its segment; the result
  // may then contain `/`, which sanitizeFilename deals with.
  const segments = parsed.pathname.split('/').filter((s) => s !== '');
  if (segments.length === 0) {
    return undefined;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(segments[segments.length - 1]);
  } catch {
    // Malformed `%` escape or bytes that are not valid UTF-8.
    return undefined;
  }
  return decoded === '' ? undefined : decoded;
}

/** What the server's response names the file, and what we call it. */
export interface ServerFilename {
  /** The sanitized name to save under. */
  name: string;
  /**
   * The name the server asked for, when it differs from `name` because a tool would load a file
   * of that name by itself (see auto-loaded-names.ts). The user is told both.
   */
  renamedFrom?: string;
}

/**
 * Content-Disposition name, else URL name, else 'download'; always sanitized. A name the server
 * chose (Content-Disposition, or the last segment of a redirect target that differs from the
 * URL the user gave) never becomes a dotfile or an auto-loaded config file; the last segment of
 * the user's own URL is the user's choice and kept.
 */
export function pickServerFilename(input: { contentDisposition?: string | null; url: string | URL; userUrl?: string | URL }): ServerFilename {
  // Sanitize each candidate with an empty fallback so that a header naming `..` falls through
  // to the URL instead of producing the generic name straight away.
  const fromHeader = parseContentDispositionFilename(input.contentDisposition);
  if (fromHeader !== undefined) {
    const safe = sanitizeFilename(fromHeader, '');
    if (safe !== '') return neutralized(safe);
  }
  const fromUrl = filenameFromUrl(input.url);
  if (fromUrl !== undefined) {
    const safe = sanitizeFilename(fromUrl, '');
    if (safe !== '') {
      const userNamed = input.userUrl !== undefined && filenameFromUrl(input.userUrl) === fromUrl;
      return userNamed ? { name: safe } : neutralized(safe);
    }
  }
  return { name: DEFAULT_FALLBACK };
}

function neutralized(name: string): ServerFilename {
  const safe = neutralizeServerName(name);
  return safe === name ? { name } : { name: safe, renamedFrom: name };
}

/** The name `pickServerFilename` saves under. */
export function chooseFilename(input: { contentDisposition?: string | null; url: string | URL; userUrl?: string | URL }): string {
  return pickServerFilename(input).name;
}

/**
 * path.resolve(dir, name) and throws an Error (message 'path escapes folder') unless the result
 * is strictly inside dir (defence in depth after sanitizing).
 */
export function resolveInside(dir: string, name: string): string {
  const base = path.resolve(dir);
  const full = path.resolve(base, name);
  const rel = path.relative(base, full);
  // `rel` is '' for dir itself, starts with `..` + sep (or is `..`) when outside, and is
  // absolute on Windows when the target is on another drive. A name like `..foo` is fine.
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    throw new Error('path escapes folder');
  }
  return full;
}

/**
 * `name.ext` → `name (1).ext`, `name (2).ext`, …: the first candidate in `dir` for which
 * `isTaken(fullPath)` resolves false. The unchanged `name` is tried first. Resolves to the
 * file *name* (not the full path); join it with resolveInside(dir, result).
 * Files without extension: `name (1)`. Dotfiles like `.bashrc` → `.bashrc (1)`. Compound
 * extensions `.tar.gz`, `.tar.xz`, `.tar.bz2`, `.tar.zst` stay together (`x (1).tar.gz`).
 * Gives up after 9999 with an Error. Candidates stay within the 200-byte name limit.
 *
 * Note this only picks a name: the caller must still create the file exclusively (`wx`) since
 * another process may take the name between the check and the create.
 */
export async function nextFreeName(
  dir: string,
  name: string,
  isTaken: (fullPath: string) => Promise<boolean>,
): Promise<string> {
  if (!(await isTaken(resolveInside(dir, name)))) {
    return name;
  }
  const [stem, ext] = splitExtension(name);
  for (let i = 1; i <= MAX_COLLISION_INDEX; i++) {
    const suffix = ` (${i})`;
    const room = MAX_NAME_BYTES - utf8Length(suffix) - utf8Length(ext);
    const candidate = `${room > 0 ? truncateToBytes(stem, room) : stem}${suffix}${ext}`;
    if (!(await isTaken(resolveInside(dir, candidate)))) {
      return candidate;
    }
  }
  throw new Error(`no free file name for "${name}" after ${MAX_COLLISION_INDEX} attempts`);
}
