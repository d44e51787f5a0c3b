/**
 * Fresh resources around every test of the enclosing `describe`: opened before each test, closed
 * after it, so no test sees what another one left on a server or on disk.
 *
 *   const ctx = eachTest({ server: faultServer, h: harness });
 *   it('…', async () => { ctx.server.route(…); await runToEnd(ctx.h.task(ctx.server.url(…))); });
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHarness, type Harness } from './engine';
import { startFaultServer, type FaultServer } from './fault-server';
import { createUploadHarness, type UploadHarness } from './upload-harness';

/** How to open one resource and how to close it again. */
export interface Fixture<T> {
  open(): Promise<T>;
  close(value: T): Promise<void>;
}

// `any` only where the type is inferred back from each fixture below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fixtures = Record<string, Fixture<any>>;
type Opened<F extends Fixtures> = { readonly [K in keyof F]: F[K] extends Fixture<infer T> ? T : never };

/**
 * Opens every fixture, in the order given, before each test; closes them all after it, last opened
 * first (a later one may lean on an earlier one), even when one close fails. Read them through the
 * returned object while a test runs.
 */
export function eachTest<F extends Fixtures>(fixtures: F): Opened<F> {
  const open = new Map<string, unknown>();
  beforeEach(async () => {
    for (const [name, fixture] of Object.entries(fixtures)) open.set(name, await fixture.open());
  });
  afterEach(async () => {
    const failures: unknown[] = [];
    for (const [name, fixture] of Object.entries(fixtures).reverse()) {
      if (open.has(name)) await fixture.close(open.get(name)).catch((error: unknown) => failures.push(error));
    }
    open.clear();
    if (failures.length > 0) throw failures[0];
  });
  const opened = {};
  for (const name of Object.keys(fixtures)) {
    Object.defineProperty(opened, name, {
      enumerable: true,
      get() {
        if (!open.has(name)) throw new Error(`"${name}" is open only while a test runs`);
        return open.get(name);
      },
    });
  }
  return opened as Opened<F>;
}

/** Anything a test starts that has to be stopped again: servers, proxies. */
export interface Closable {
  close(): Promise<void>;
}

/** A server or proxy that `start` starts and its own `close()` stops. */
export function started<T extends Closable>(start: () => Promise<T>): Fixture<T> {
  return { open: start, close: (opened) => opened.close() };
}

/** The scriptable download server (routes, faults, the requests it saw). */
export const faultServer = started<FaultServer>(startFaultServer);

/** The download engine wired to a temporary folder, a memory store and fast retries. */
export const harness: Fixture<Harness> = { open: createHarness, close: (h) => h.cleanup() };

/** The upload engine wired the same way, with files of known content. */
export const uploadHarness: Fixture<UploadHarness> = { open: createUploadHarness, close: (h) => h.cleanup() };

/** An empty temporary folder whose name starts with `prefix`, removed with all it holds. */
export function tempDir(prefix: string): Fixture<string> {
  return {
    open: () => mkdtemp(path.join(os.tmpdir(), prefix)),
    close: (dir) => rm(dir, { recursive: true, force: true }),
  };
}

/** Hands back what it is given and remembers it, to close it all later, last given first. */
export interface CloseAfter {
  <T extends Closable>(opened: T): T;
  closeAll(): Promise<void>;
}

/**
 * For what a test starts itself, with options of its own: `ctx.closeAfter(await startX(…))` is
 * closed once the test is over.
 */
export const closeAfterTest: Fixture<CloseAfter> = {
  open: async () => {
    const opened: Closable[] = [];
    const closeAfter = <T extends Closable>(thing: T): T => {
      opened.push(thing);
      return thing;
    };
    return Object.assign(closeAfter, {
      async closeAll() {
        for (const thing of opened.splice(0).reverse()) await thing.close();
      },
    });
  },
  close: (closeAfter) => closeAfter.closeAll(),
};
