/**
 * One header typed by a person, as `Name: value` (the CLI's `--header`, the "Set Header for
 * Host" prompt, an upload endpoint's header). One parser for all of them, so a value that one
 * front end refuses is refused by every one.
 */

/** RFC 9110 §5.1: a field name is a token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Characters that would end the header line or the string early (request smuggling). */
const LINE_BREAKING = /[\r\n\0]/;

export type HeaderLine = { ok: true; name: string; value: string } | { ok: false; reason: 'name' | 'value' };

/** `Name: value` → name and trimmed value; an empty value is allowed (it means "remove"). */
export function parseHeaderLine(text: string): HeaderLine {
  const colon = text.indexOf(':');
  const name = colon > 0 ? text.slice(0, colon).trim() : '';
  if (!TOKEN.test(name)) return { ok: false, reason: 'name' };
  const value = text.slice(colon + 1).trim();
  if (LINE_BREAKING.test(value)) return { ok: false, reason: 'value' };
  return { ok: true, name, value };
}
