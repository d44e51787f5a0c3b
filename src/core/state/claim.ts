import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fromFileSystemError } from '../errors';

/**
 * A claim is the right to write one resource (a `.part` file, a transfer's record), held across
 * windows and processes by a claim file beside the resource: `<resource>.claim.<generation>`.
 *
 * - Claiming creates the next generation's file with O_EXCL, so of many contenders exactly one
 *   wins, however they interleave.
 * - The holder's heartbeat is the file's mtime, renewed while it runs. A claim is stale when the
 *   heartbeat is older than `staleMs`, or at once when its process on this machine is gone (a
 *   reloaded window's old extension host, a killed CLI).
 * - Taking over a stale claim is the same O_EXCL create of the generation after it; the winner
 *   then deletes the older files. Nothing is ever overwritten or renamed over, so two contenders
 *   cannot both believe they won.
 * - A holder still holds while its own file is there with its nonce and no later generation
 *   exists; `verify` checks exactly that (two small reads).
 */
export interface ClaimHolder {
  /** The window or process that holds it (the manager's owner id). */
  owner: string;
  pid: number;
  host: string;
  nonce: string;
  /** Last heartbeat (the claim file's mtime), ms since the epoch. */
  heartbeat: number;
}

export interface ClaimOptions {
  /** Identifies this window or process. */
  owner: string;
  /** A heartbeat older than this means the holder is gone (default 30 s). */
  staleMs?: number;
  now?: () => number;
  pid?: number;
  host?: string;
  /** Whether a process of this machine still runs (default: `kill(pid, 0)`). */
  isAlive?: (pid: number) => boolean;
}

export const DEFAULT_CLAIM_STALE_MS = 30_000;

/** Either we hold the resource now, or someone else does. */
export type ClaimAttempt = { claim: FileClaim; holder?: undefined } | { claim?: undefined; holder: ClaimHolder };

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const claimFile = (resource: string, generation: number) => `${resource}.claim.${generation}`;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function namesBeside(resource: string): Promise<string[]> {
  try {
    return await fs.readdir(path.dirname(resource));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fromFileSystemError(error, `read ${path.dirname(resource)}`);
  }
}

/** Generations of claim files that exist for `resource`, highest first. */
async function generations(resource: string): Promise<number[]> {
  const pattern = new RegExp(`^${escapeRegExp(path.basename(resource))}\\.claim\\.(\\d+)$`);
  const names = await namesBeside(resource);
  return names
    .map((name) => pattern.exec(name)?.[1])
    .filter((match): match is string => match !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
}

/** The holder written in a claim file; undefined when the file is gone. */
async function readHolder(file: string): Promise<ClaimHolder | undefined> {
  let text: string;
  let heartbeat: number;
  try {
    const [content, stat] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
    text = content;
    heartbeat = stat.mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromFileSystemError(error, `read ${file}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<ClaimHolder>;
    return {
      owner: String(parsed.owner ?? ''),
      pid: Number(parsed.pid ?? 0),
      host: String(parsed.host ?? ''),
      nonce: String(parsed.nonce ?? ''),
      heartbeat,
    };
  } catch {
    // Created but not yet written: a contender is in the middle of claiming. Only its age counts.
    return { owner: '', pid: 0, host: '', nonce: '', heartbeat };
  }
}

class ClaimRules {
  readonly staleMs: number;
  readonly now: () => number;
  readonly pid: number;
  readonly host: string;
  private readonly alive: (pid: number) => boolean;

  constructor(readonly options: ClaimOptions) {
    this.staleMs = options.staleMs ?? DEFAULT_CLAIM_STALE_MS;
    this.now = options.now ?? Date.now;
    this.pid = options.pid ?? process.pid;
    this.host = options.host ?? os.hostname();
    this.alive = options.isAlive ?? processAlive;
  }

  isStale(holder: ClaimHolder): boolean {
    if (holder.pid > 0 && holder.host === this.host && holder.pid !== this.pid && !this.alive(holder.pid)) return true;
    return this.now() - holder.heartbeat > this.staleMs;
  }
}

/** The live holder of `resource`, if any: what a new download asks before it takes a name. */
export async function claimHolder(resource: string, options: ClaimOptions): Promise<ClaimHolder | undefined> {
  const rules = new ClaimRules(options);
  const [top] = await generations(resource);
  if (top === undefined) return undefined;
  const holder = await readHolder(claimFile(resource, top));
  return holder && !rules.isStale(holder) ? holder : undefined;
}

/**
 * Deletes the claim files of `resource` whose holders are gone (a crashed window, a killed
 * command), so that nothing of a removed transfer stays beside where its `.part` was. A live
 * holder's file is left alone.
 */
export async function removeStaleClaims(resource: string, options: ClaimOptions): Promise<void> {
  const rules = new ClaimRules(options);
  for (const generation of await generations(resource)) {
    const file = claimFile(resource, generation);
    const holder = await readHolder(file);
    if (holder && rules.isStale(holder)) await fs.rm(file, { force: true });
  }
  await removeStaleTemporaries(resource, rules);
}

/**
 * Deletes the temporary files of claims that were never linked into place: a process killed
 * while claiming leaves `<resource>.claim.<n>.<pid>.<hex>.tmp`. Its holder is judged like a
 * claim's (process gone, or heartbeat older than the stale window); one killed before it wrote
 * a byte is judged by the pid in its name. A contender in the middle of claiming keeps its file.
 */
async function removeStaleTemporaries(resource: string, rules: ClaimRules): Promise<void> {
  // The pid is absent from the names of older versions.
  const pattern = new RegExp(`^${escapeRegExp(path.basename(resource))}\\.claim\\.\\d+\\.(?:(\\d+)\\.)?[0-9a-f]+\\.tmp$`);
  for (const name of await namesBeside(resource)) {
    const match = pattern.exec(name);
    if (!match) continue;
    const file = path.join(path.dirname(resource), name);
    const holder = await readHolder(file).catch(() => undefined);
    if (!holder) continue;
    const unwritten = holder.pid === 0 && match[1] !== undefined;
    if (rules.isStale(unwritten ? { ...holder, pid: Number(match[1]), host: rules.host } : holder)) await fs.rm(file, { force: true }).catch(() => undefined);
  }
}

/**
 * Claims `resource`, taking over a stale claim. Returns the claim, or the live holder when
 * someone else has it.
 */
export async function acquireClaim(resource: string, options: ClaimOptions): Promise<ClaimAttempt> {
  const rules = new ClaimRules(options);
  await fs.mkdir(path.dirname(resource), { recursive: true }).catch((error: unknown) => {
    throw fromFileSystemError(error, `create ${path.dirname(resource)}`);
  });
  let lastHolder: ClaimHolder | undefined;
  // Each round either wins, finds a live holder, or lost a race to a contender that changed the
  // files: a few rounds settle any realistic contention.
  for (let round = 0; round < 20; round++) {
    const existing = await generations(resource);
    const top = existing[0];
    if (top !== undefined) {
      const holder = await readHolder(claimFile(resource, top));
      if (!holder) continue;
      lastHolder = holder;
      if (!rules.isStale(holder)) return { holder };
    }
    const generation = (top ?? 0) + 1;
    const nonce = randomBytes(8).toString('hex');
    const content = JSON.stringify({ owner: options.owner, pid: rules.pid, host: rules.host, nonce });
    if (!(await createExclusively(claimFile(resource, generation), content, rules.now(), rules.pid))) continue;
    const claim = new FileClaim(resource, generation, nonce, rules);
    // Older generations belong to holders that are gone; their files only confuse readers.
    await Promise.all(existing.map((old) => fs.rm(claimFile(resource, old), { force: true }).catch(() => undefined)));
    await removeStaleTemporaries(resource, rules).catch(() => undefined);
    return { claim };
  }
  return { holder: lastHolder ?? { owner: '', pid: 0, host: '', nonce: '', heartbeat: rules.now() } };
}

/**
 * Creates `file` with `content` and heartbeat `now` unless it exists. The file is written under a
 * temporary name and hard-linked into place, so no reader ever sees it empty or with a wrong age;
 * where hard links are unsupported (FAT), O_EXCL with a short window of an empty file.
 */
async function createExclusively(file: string, content: string, now: number, pid: number): Promise<boolean> {
  // The pid in the name judges a temporary file whose process was killed before it wrote a byte.
  const temporary = `${file}.${pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(temporary, content, { flag: 'wx' });
    await fs.utimes(temporary, now / 1000, now / 1000);
    await fs.link(temporary, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw fromFileSystemError(error, `create ${file}`);
  } finally {
    await fs.rm(temporary, { force: true }).catch(() => undefined);
  }
  try {
    await fs.writeFile(file, content, { flag: 'wx' });
    await fs.utimes(file, now / 1000, now / 1000);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw fromFileSystemError(error, `create ${file}`);
  }
}

/** A claim we hold on one resource. */
export class FileClaim {
  /** @internal Use acquireClaim. */
  constructor(
    readonly resource: string,
    readonly generation: number,
    readonly nonce: string,
    private readonly rules: ClaimRules,
  ) {}

  get file(): string {
    return claimFile(this.resource, this.generation);
  }

  get owner(): string {
    return this.rules.options.owner;
  }

  /** True while we still hold it: our file, our nonce, no later generation. */
  async verify(): Promise<boolean> {
    const mine = await readHolder(this.file).catch(() => undefined);
    if (!mine || mine.nonce !== this.nonce) return false;
    try {
      await fs.lstat(claimFile(this.resource, this.generation + 1));
      return false;
    } catch {
      return true;
    }
  }

  /** Verifies and renews the heartbeat; false when the claim was lost. */
  async renew(): Promise<boolean> {
    if (!(await this.verify())) return false;
    return this.touch().then(
      () => true,
      () => false,
    );
  }

  private async touch(): Promise<void> {
    const seconds = this.rules.now() / 1000;
    await fs.utimes(this.file, seconds, seconds);
  }

  /** Gives the resource up (only if it is still ours: never a successor's file). */
  async release(): Promise<void> {
    const mine = await readHolder(this.file).catch(() => undefined);
    if (mine?.nonce === this.nonce) await fs.rm(this.file, { force: true }).catch(() => undefined);
  }
}
