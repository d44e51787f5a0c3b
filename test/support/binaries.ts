import { accessSync, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of an executable on PATH or in one of `extraDirs` (sbin is not on every PATH). */
export function findExecutable(name: string, extraDirs: string[] = ['/usr/sbin', '/usr/local/sbin']): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs]) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}
