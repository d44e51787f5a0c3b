import { TextDecoder } from 'node:util';

/**
 * RFC 6266 filename from a Content-Disposition header; prefers filename* (RFC 8187 ext-value:
 * charset'lang'pct-encoded, UTF-8 and ISO-8859-1), falls back to filename (token or
 * quoted-string with backslash escapes). Returns undefined when absent/unparseable.
 * Case-insensitive parameter names, tolerant of extra whitespace, semicolons, and parameters in
 * any order. If a plain `filename` contains raw non-ASCII bytes (Node decodes header bytes as
 * latin1), re-decode it as UTF-8 when that yields valid UTF-8.
 *
 * The result is NOT safe to use as a path: always pass it through sanitizeFilename().
 */
export function parseContentDispositionFilename(header: string | null | undefined): string | undefined {
  if (typeof header !== 'string' || header.trim() === '') {
    return undefined;
  }
  const params = parseParams(header);

  const extended = params.get('filename*');
  if (extended !== undefined) {
    const decoded = decodeExtValue(extended);
    // A broken filename* must not hide a usable plain filename (RFC 6266 §4.3 lets senders
    // provide both precisely so that old or confused recipients still get something).
    if (decoded !== undefined && decoded !== '') {
      return decoded;
    }
  }

  const plain = params.get('filename');
  if (plain === undefined || plain === '') {
    return undefined;
  }
  return redecodeLatin1AsUtf8(plain);
}

/**
 * Splits `type; a=b; c="d;e"` into lower-cased parameter names → unquoted values.
 * Hand-written rather than a regex because quoted-strings may legally contain `;` and `\"`.
 * The first occurrence of a parameter wins (duplicates are invalid per RFC 6266 anyway).
 */
function parseParams(header: string): Map<string, string> {
  const params = new Map<string, string>();
  const n = header.length;
  let i = 0;

  while (i < n) {
    // Skip separators; tolerates `;;` and leading/trailing `;`.
    while (i < n && (header[i] === ';' || isWhitespace(header[i]))) {
      i++;
    }
    if (i >= n) {
      break;
    }

    const nameStart = i;
    while (i < n && header[i] !== '=' && header[i] !== ';') {
      i++;
    }
    const name = header.slice(nameStart, i).trim().toLowerCase();
    if (i >= n || header[i] === ';') {
      // No `=`: the disposition type (`attachment`, `inline`) or a valueless flag. Ignored.
      continue;
    }
    i++; // '='

    while (i < n && isWhitespace(header[i])) {
      i++;
    }

    let value: string;
    if (header[i] === '"') {
      i++;
      let out = '';
      while (i < n && header[i] !== '"') {
        if (header[i] === '\\' && i + 1 < n) {
          out += header[i + 1];
          i += 2;
        } else {
          out += header[i];
          i++;
        }
      }
      // An unterminated quote just runs to the end of the header: be lenient, servers get this wrong.
      i++;
      value = out;
      // Ignore any junk between the closing quote and the next `;`.
      while (i < n && header[i] !== ';') {
        i++;
      }
    } else {
      const valueStart = i;
      while (i < n && header[i] !== ';') {
        i++;
      }
      value = header.slice(valueStart, i).trim();
    }

    if (name !== '' && !params.has(name)) {
      params.set(name, value);
    }
  }
  return params;
}

function isWhitespace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

/** RFC 8187 ext-value: `charset'[language]'pct-encoded`. */
function decodeExtValue(value: string): string | undefined {
  const match = /^([^']*)'([^']*)'(.*)$/s.exec(value.trim());
  if (!match) {
    return undefined;
  }
  const charset = match[1].trim().toLowerCase();
  const bytes = percentDecodeToBytes(match[3]);
  if (bytes === undefined) {
    return undefined;
  }
  switch (charset) {
    case 'utf-8':
    case 'utf8':
      return decodeUtf8Strict(bytes);
    case 'iso-8859-1':
    case 'iso_8859-1':
    case 'latin1':
      // Not TextDecoder('iso-8859-1'): WHATWG maps that label to windows-1252, which differs
      // from real ISO-8859-1 in 0x80–0x9F. Buffer's 'latin1' is the genuine byte → U+00XX map.
      return Buffer.from(bytes).toString('latin1');
    case 'us-ascii':
    case 'ascii':
      return bytes.every((b) => b < 0x80) ? Buffer.from(bytes).toString('latin1') : undefined;
    default:
      // RFC 8187 only requires UTF-8 and ISO-8859-1; guessing other charsets risks mojibake.
      return undefined;
  }
}

/** Strict percent-decoding: a `%` not followed by two hex digits makes the whole value invalid. */
function percentDecodeToBytes(s: string): number[] | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const ch = s[i];
    if (ch === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
        return undefined;
      }
      bytes.push(parseInt(hex, 16));
      i += 3;
      continue;
    }
    const cp = s.codePointAt(i) as number;
    if (cp <= 0xff) {
      // Raw (non-compliant) bytes: Node hands header bytes to us as latin1, so the char code
      // is the original byte.
      bytes.push(cp);
    } else {
      // A string built in JS can hold real Unicode here; keep its UTF-8 bytes.
      bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
    }
    i += cp > 0xffff ? 2 : 1;
  }
  return bytes;
}

function decodeUtf8Strict(bytes: Uint8Array | number[]): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/**
 * Many servers put raw UTF-8 into the plain `filename` parameter; Node's HTTP parser exposes
 * header bytes as latin1, so `测` arrives as `æµ`. If every char is a byte (≤ U+00FF), at least
 * one is non-ASCII, and the bytes form valid UTF-8, the UTF-8 reading is almost certainly the
 * intended one (browsers apply the same heuristic). Otherwise keep the string as-is.
 */
function redecodeLatin1AsUtf8(value: string): string {
  if (!/[\u0080-\u00ff]/.test(value) || /[\u0100-\uffff]/.test(value)) {
    return value;
  }
  return decodeUtf8Strict(Buffer.from(value, 'latin1')) ?? value;
}
