import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TransferRecord } from './record';

/**
 * The machine (and file system) that holds a transfer's bytes: its `.part` file, or an upload's
 * source file. The editor's globalState is shared by local and remote windows alike, so a record
 * must say where its bytes are; only a window on that machine may run it.
 */
export interface MachineRef {
  /** Stable, random; kept in a file on that machine. */
  id: string;
  /** For people: the host name, and the kind of remote when there is one. */
  label: string;
}

/** Where a record's bytes are, seen from one machine. `unknown`: saved before records named machines. */
export type Whereabouts = 'here' | 'other' | 'unknown';

export function whereIs(record: TransferRecord, here: MachineRef): Whereabouts {
  if (!record.machine) return 'unknown';
  return record.machine.id === here.id ? 'here' : 'other';
}

/**
 * The machine another machine's stored value names, read without trusting the rest of it. A
 * record this window cannot validate (say, saved by a newer version on a remote) must be left as
 * it is when it belongs to another machine: salvaging or deleting it would destroy that
 * machine's state.
 */
export function otherMachineOf(raw: unknown, here: MachineRef): MachineRef | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const machine = (raw as { machine?: unknown }).machine;
  if (typeof machine !== 'object' || machine === null) return undefined;
  const { id, label } = machine as { id?: unknown; label?: unknown };
  if (typeof id !== 'string' || id === '' || id === here.id) return undefined;
  return { id, label: typeof label === 'string' ? label : id };
}

const MACHINE_ID_FILE = 'machine-id';
const VALID_ID = /^[\w-]{8,128}$/;

function readId(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return VALID_ID.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * This machine's id, kept in `dir` (the extension's global storage, which lives on the machine
 * the extension host runs on, unlike globalState). Created on first use; when two windows start
 * at once, the exclusive create lets exactly one of them write it and both read the same id.
 * Synchronous: a few bytes, read once at activation.
 */
export function loadOrCreateMachineId(dir: string): string {
  const file = path.join(dir, MACHINE_ID_FILE);
  const existing = readId(file);
  if (existing) return existing;
  mkdirSync(dir, { recursive: true });
  const fresh = randomUUID();
  try {
    writeFileSync(file, fresh, { flag: 'wx' });
    return fresh;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Another window created it first (or left an unreadable one): theirs wins when it is valid.
  const theirs = readId(file);
  if (theirs) return theirs;
  writeFileSync(file, fresh);
  return fresh;
}

/** Readable names of VS Code's remote kinds (`vscode.env.remoteName`). */
const REMOTE_KINDS: Readonly<Record<string, string>> = {
  'ssh-remote': 'SSH',
  wsl: 'WSL',
  'dev-container': 'Dev Container',
  'attached-container': 'Container',
  codespaces: 'Codespaces',
  tunnel: 'Tunnel',
  'k8s-container': 'Kubernetes',
};

/**
 * How a machine is named on rows of other windows: `build-box (SSH)`, `laptop` for a local window.
 * A remote kind VS Code does not list is shown as it is, unless it is an address (a server such
 * as code-server reports its `host:port`, which changes from run to run): then the host name alone.
 */
export function machineLabel(remoteName: string | undefined, hostName: string): string {
  const host = hostName.trim() || 'localhost';
  const kind = remoteName ? (REMOTE_KINDS[remoteName] ?? (/^[a-z][\w-]*$/i.test(remoteName) ? remoteName : undefined)) : undefined;
  return kind ? `${host} (${kind})` : host;
}
