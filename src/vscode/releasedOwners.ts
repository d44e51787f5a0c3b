import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const KEEP = 50;
const CACHE_MS = 1000;

/**
 * Windows that shut down cleanly, recorded in a small file in globalStorage. globalState is
 * flushed lazily (a save during shutdown may never arrive, in the browser it reliably does not),
 * so a reloaded window would otherwise wait for its own old lease to expire before resuming.
 * The file is written synchronously at shutdown and read by every window of this machine.
 */
export class ReleasedOwners {
  private readonly file: string;
  private cached?: { at: number; owners: Set<string> };

  constructor(storageDir: string) {
    this.file = path.join(storageDir, 'released-owners.json');
  }

  private read(): string[] {
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      return [];
    }
  }

  has(owner: string): boolean {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > CACHE_MS) this.cached = { at: now, owners: new Set(this.read()) };
    return this.cached.owners.has(owner);
  }

  /** Synchronous on purpose: it runs while the extension host is shutting down. */
  release(owner: string): void {
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      const owners = [...this.read().filter((o) => o !== owner), owner].slice(-KEEP);
      const temporary = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      writeFileSync(temporary, JSON.stringify(owners), { flag: 'wx' });
      renameSync(temporary, this.file);
      this.cached = undefined;
    } catch {
      // Best effort: without the marker the lease simply expires.
    }
  }
}
