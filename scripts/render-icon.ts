/**
 * Renders media/icon.svg to media/icon.png (128×128, transparent corners) with headless Chromium
 * via playwright-core. Usage:
 *   npx tsx scripts/render-icon.ts [--preview <dir>]
 * --preview also writes enlarged/small previews of both icons into <dir> (for a visual check only).
 * Browser: /usr/bin/chromium, or CHROMIUM=<path>.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Page } from 'playwright-core';

const REPO = path.resolve(__dirname, '..');
const MEDIA = path.join(REPO, 'media');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function renderSvg(page: Page, svg: string, size: number, out: string, opts: { color?: string; background?: string } = {}): Promise<void> {
  await page.setViewportSize({ width: size, height: size });
  const body = svg.replace(/<svg\b/, `<svg style="display:block;width:${size}px;height:${size}px"`);
  await page.setContent(
    `<!doctype html><html><head><style>html,body{margin:0;padding:0;background:${opts.background ?? 'transparent'};color:${opts.color ?? '#000'}}</style></head><body>${body}</body></html>`,
  );
  await page.screenshot({ path: out, omitBackground: !opts.background, clip: { x: 0, y: 0, width: size, height: size } });
}

async function main(): Promise<void> {
  const previewIdx = process.argv.indexOf('--preview');
  const previewDir = previewIdx >= 0 ? path.resolve(process.argv[previewIdx + 1] ?? '.') : undefined;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'render-icon-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    env: { ...process.env, XDG_CONFIG_HOME: path.join(profile, 'config'), XDG_CACHE_HOME: path.join(profile, 'cache') } as Record<string, string>,
  });
  try {
    const page = await browser.newPage({ deviceScaleFactor: 1 });
    const icon = fs.readFileSync(path.join(MEDIA, 'icon.svg'), 'utf8');
    await renderSvg(page, icon, 128, path.join(MEDIA, 'icon.png'));
    console.log(`wrote ${path.relative(REPO, path.join(MEDIA, 'icon.png'))} (128x128)`);
    if (previewDir) {
      fs.mkdirSync(previewDir, { recursive: true });
      const glyph = fs.readFileSync(path.join(MEDIA, 'transfers.svg'), 'utf8');
      await renderSvg(page, icon, 32, path.join(previewDir, 'icon-32.png'));
      await renderSvg(page, icon, 512, path.join(previewDir, 'icon-512.png'));
      await renderSvg(page, glyph, 24, path.join(previewDir, 'transfers-24-dark.png'), { color: '#cccccc', background: '#333333' });
      await renderSvg(page, glyph, 24, path.join(previewDir, 'transfers-24-light.png'), { color: '#424242', background: '#f3f3f3' });
      await renderSvg(page, glyph, 240, path.join(previewDir, 'transfers-240.png'), { color: '#cccccc', background: '#333333' });
      console.log(`previews in ${previewDir}`);
    }
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
