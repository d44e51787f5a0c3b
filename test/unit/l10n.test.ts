import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Keeps the Simplified Chinese localization complete and well-formed, and makes sure no string
 * shown by the extension can be added without a translation key.
 */

const root = path.resolve(__dirname, '..', '..');

type Strings = Record<string, string>;

function readJson<T>(relative: string): T {
  const text = fs.readFileSync(path.join(root, relative), 'utf8').replace(/^\uFEFF/, '');
  return JSON.parse(text) as T;
}

/** Strings that are technical names in every language, so the translation may equal the English. */
const PURE_TOKENS = new Set(['tus 1.0', 'URL', 'ETag', 'Last-Modified']);

/** Technical names that must survive translation whenever the English contains them. */
const TECHNICAL_TOKENS = ['HTTP', 'http', 'https', 'URL', 'ETag', 'Last-Modified', 'Range', 'If-Range', 'Content-Range', 'tus', 'IETF', 'PUT', 'WebDAV', 'sha256', 'VS Code'];

const placeholders = (text: string) => (text.match(/\{\d+\}/g) ?? []).sort();
const commandTargets = (text: string) => [...text.matchAll(/\]\((command:[^)\s]+)\)/g)].map((m) => m[1]);
const codeSpans = (text: string) => text.match(/`[^`]+`/g) ?? [];
const lineBreaks = (text: string) => text.split('\n').length - 1;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const hasToken = (text: string, token: string) => new RegExp(`(?<![\\w-])${escapeRegExp(token)}(?![\\w-])`).test(text);

/** Runs `check` over every source/translation pair and fails once, listing every offending key. */
function everyPair(source: Strings, translated: Strings, check: (en: string, zh: string) => string | undefined): void {
  const problems: string[] = [];
  for (const [key, en] of Object.entries(source)) {
    const zh = translated[key];
    if (typeof zh !== 'string') continue; // reported by the completeness tests
    const problem = check(en, zh);
    if (problem) problems.push(`${JSON.stringify(key)}: ${problem}`);
  }
  assert.deepEqual(problems, []);
}

/** Checks shared by package.nls and the runtime bundle. */
function describeTranslation(name: string, sourceFile: string, translationFile: string): void {
  describe(name, () => {
    const source = readJson<Strings>(sourceFile);
    const translated = readJson<Strings>(translationFile);

    it(`has every key of ${sourceFile} with a non-empty, translated value`, () => {
      const missing = Object.keys(source).filter((key) => !(key in translated));
      assert.deepEqual(missing, [], `keys missing from ${translationFile}`);
      const untranslated = Object.keys(source).filter((key) => {
        const zh = translated[key];
        if (typeof zh !== 'string' || zh.trim() === '') return true;
        return zh === source[key] && !PURE_TOKENS.has(source[key]);
      });
      assert.deepEqual(untranslated, [], `empty or untranslated values in ${translationFile}`);
    });

    it(`has no keys that ${sourceFile} no longer defines`, () => {
      const stale = Object.keys(translated).filter((key) => !(key in source));
      assert.deepEqual(stale, []);
    });

    it('keeps exactly the placeholders of the English', () => {
      everyPair(source, translated, (en, zh) => {
        const want = placeholders(en);
        const got = placeholders(zh);
        return JSON.stringify(want) === JSON.stringify(got) ? undefined : `placeholders ${got.join(' ')} ≠ ${want.join(' ')}`;
      });
    });

    it('keeps command: link targets, code spans and line breaks', () => {
      everyPair(source, translated, (en, zh) => {
        if (JSON.stringify(commandTargets(en)) !== JSON.stringify(commandTargets(zh))) return `command links ${commandTargets(zh).join(' ')} ≠ ${commandTargets(en).join(' ')}`;
        if (JSON.stringify(codeSpans(en)) !== JSON.stringify(codeSpans(zh))) return `code spans ${codeSpans(zh).join(' ')} ≠ ${codeSpans(en).join(' ')}`;
        if (lineBreaks(en) !== lineBreaks(zh)) return `${lineBreaks(zh)} line breaks ≠ ${lineBreaks(en)}`;
        return undefined;
      });
    });

    it('keeps technical tokens (HTTP, URL, ETag, If-Range, tus, WebDAV, …) untranslated', () => {
      everyPair(source, translated, (en, zh) => {
        const lost = TECHNICAL_TOKENS.filter((token) => hasToken(en, token) && !hasToken(zh, token));
        return lost.length > 0 ? `lost ${lost.join(', ')}` : undefined;
      });
    });

    it('uses full-width punctuation in Chinese sentences', () => {
      const finals: Record<string, string> = { '.': '。', '?': '？', '…': '…' };
      everyPair(source, translated, (en, zh) => {
        const cjk = /[\u4e00-\u9fff]/.test(zh);
        if (!cjk) return undefined;
        const wanted = finals[en.slice(-1)];
        if (wanted && !zh.endsWith(wanted)) return `should end with ${wanted}`;
        const ascii = zh.match(/[\u4e00-\u9fff][,.;:?!()]|[,;:?!()][\u4e00-\u9fff]/);
        return ascii ? `ASCII punctuation next to Chinese text: ${JSON.stringify(ascii[0])}` : undefined;
      });
    });

    it('uses full-width colons, commas and brackets everywhere outside quotes, code, URLs and header samples', () => {
      // "失败：…" in rows and tooltips too: a template such as "{0}: {1}" is Chinese text once filled in.
      const allowed = /“[^”]*”|`[^`]*`|\]\(command:[^)]*\)|\b[a-z]+:\/\/\S+|\d:\d|\{\d+\}/g;
      everyPair(source, translated, (_en, zh) => {
        const rest = zh.replace(allowed, ' ');
        const ascii = rest.match(/[:;,?!()]/);
        return ascii ? `ASCII ${JSON.stringify(ascii[0])} in ${JSON.stringify(zh)}` : undefined;
      });
    });

    it('puts no space next to full-width punctuation', () => {
      everyPair(source, translated, (_en, zh) => (/ [，。：；？！（）、]|[，。：；？！（）、] /.test(zh) ? `space beside full-width punctuation in ${JSON.stringify(zh)}` : undefined));
    });
  });
}

describe('localization', () => {
  describe('package.json', () => {
    it('references only %keys% that package.nls.json defines', () => {
      const manifest = readJson<unknown>('package.json');
      const nls = readJson<Strings>('package.nls.json');
      const referenced = new Set<string>();
      const walk = (value: unknown): void => {
        if (typeof value === 'string') {
          const match = /^%([^%\s]+)%$/.exec(value);
          if (match) referenced.add(match[1]);
        } else if (Array.isArray(value)) value.forEach(walk);
        else if (value && typeof value === 'object') Object.values(value).forEach(walk);
      };
      walk(manifest);
      assert.ok(referenced.size > 0, 'package.json references no %keys%: is the manifest still localized?');
      assert.deepEqual([...referenced].filter((key) => !(key in nls)), []);
    });
  });

  describeTranslation('package.nls.zh-cn.json', 'package.nls.json', 'package.nls.zh-cn.json');
  describeTranslation('l10n/bundle.l10n.zh-cn.json', 'l10n/bundle.l10n.json', 'l10n/bundle.l10n.zh-cn.json');

  describe('source strings', () => {
    const sourceFiles = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return sourceFiles(full);
        return entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
      });

    /** Undoes the escapes of a JavaScript string literal's body. */
    const unescape = (body: string): string =>
      body.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r?\n|.)/g, (_, escape: string) => {
        if (escape.startsWith('u{')) return String.fromCodePoint(parseInt(escape.slice(2, -1), 16));
        if (escape.startsWith('u') || escape.startsWith('x')) return String.fromCharCode(parseInt(escape.slice(1), 16));
        const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', 0: '\0', '\n': '', '\r\n': '' };
        return simple[escape] ?? escape;
      });

    const calls = sourceFiles(path.join(root, 'src')).flatMap((file) => {
      const text = fs.readFileSync(file, 'utf8');
      const where = (index: number) => `${path.relative(root, file)}:${text.slice(0, index).split('\n').length}`;
      const literal = /\bl10n\.t\(\s*(?:'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)")/g;
      const found = new Map([...text.matchAll(literal)].map((m) => [m.index ?? 0, unescape(m[1] ?? m[2])] as const));
      return [...text.matchAll(/\bl10n\.t\(/g)].map((m) => {
        const index = m.index ?? 0;
        return { where: where(index), message: found.get(index) ?? '', literal: found.has(index) };
      });
    });

    it('finds the vscode.l10n.t calls in src', () => {
      assert.ok(calls.filter((call) => call.literal).length >= 50, `only ${calls.length} l10n.t calls found: is the scanner still matching?`);
    });

    it('passes a plain string literal as the first argument of every l10n.t call', () => {
      assert.deepEqual(calls.filter((call) => !call.literal).map((call) => call.where), [], 'use a string literal so the message can be extracted and translated');
    });

    it('names every injected L10n `l10n`, so that the scan above sees the calls made through it', () => {
      // Presentation code takes the l10n function as a parameter (plain Node in unit tests).
      // `@vscode/l10n-dev export` misses those calls; this scan finds them only by that name.
      const elsewhere = sourceFiles(path.join(root, 'src')).flatMap((file) => {
        const text = fs.readFileSync(file, 'utf8');
        const typed = [...text.matchAll(/\b(\w+)\??\s*:\s*L10n\b/g)].filter((m) => m[1] !== 'l10n');
        const destructured = [...text.matchAll(/\{\s*t\b[^}]*\}\s*=\s*[\w.]*l10n\b/g)];
        return [...typed, ...destructured].map((m) => `${path.relative(root, file)}: ${m[0]}`);
      });
      assert.deepEqual(elsewhere, []);
    });

    it('has every l10n.t message as a key of l10n/bundle.l10n.json', () => {
      const bundle = readJson<Strings>('l10n/bundle.l10n.json');
      const missing = calls.filter((call) => call.literal && !(call.message in bundle)).map((call) => `${call.where}: ${JSON.stringify(call.message)}`);
      assert.deepEqual(missing, []);
    });
  });
});
