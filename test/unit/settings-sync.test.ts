import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StateKeys, SYNCED_STATE_KEYS } from '../../src/vscode/ids';

/**
 * Settings Sync must never carry transfer records to another machine: a record describes bytes
 * on one machine, and synced elsewhere it would show (or, before records named machines, run)
 * there. globalState keys are synced only when handed to `setKeysForSync`.
 */
const SRC = path.resolve(__dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('Settings Sync and transfer records', () => {
  it('no globalState key handed to Settings Sync is a transfer record', () => {
    const transferKeys = SYNCED_STATE_KEYS.filter((key) => key.startsWith(StateKeys.transferPrefix));
    assert.deepEqual(transferKeys, []);
  });

  it('setKeysForSync is called only with that list, and the extension does call it', () => {
    const calls = sourceFiles(SRC).flatMap((file) =>
      [...fs.readFileSync(file, 'utf8').matchAll(/setKeysForSync\(([^)]*)\)/g)].map((m) => `${path.relative(SRC, file)}: ${m[1].trim()}`),
    );
    assert.ok(calls.length > 0, 'the extension declares its synced keys explicitly');
    assert.deepEqual(
      calls.filter((call) => !call.endsWith(': SYNCED_STATE_KEYS')),
      [],
      'every setKeysForSync call passes SYNCED_STATE_KEYS',
    );
  });
});
