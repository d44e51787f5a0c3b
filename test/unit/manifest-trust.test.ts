import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

interface SettingSchema {
  scope?: string;
}
interface Manifest {
  contributes: { configuration: Array<{ properties: Record<string, SettingSchema> }> };
  capabilities?: {
    untrustedWorkspaces?: { supported: boolean | 'limited'; description?: string; restrictedConfigurations?: string[] };
    virtualWorkspaces?: { supported: boolean | 'limited'; description?: string } | boolean;
  };
}

const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as Manifest;
const settings = Object.assign({}, ...manifest.contributes.configuration.map((c) => c.properties)) as Record<string, SettingSchema>;
const USER_ONLY = ['machine', 'application'];

describe('manifest: a cloned repository cannot steer where files are written', () => {
  for (const key of ['resumableTransfers.downloadFolder', 'resumableTransfers.whenTargetExists']) {
    it(`${key} takes effect only from user settings (scope machine or application)`, () => {
      assert.ok(USER_ONLY.includes(settings[key]?.scope ?? 'window'), `${key} has scope ${settings[key]?.scope ?? '(default: window)'}`);
    });
  }

  it('declares what it does in untrusted workspaces, and restricts every other setting there', () => {
    const untrusted = manifest.capabilities?.untrustedWorkspaces;
    assert.ok(untrusted, 'capabilities.untrustedWorkspaces is missing');
    assert.equal(untrusted.supported, 'limited');
    assert.ok(untrusted.description);
    const restricted = new Set(untrusted.restrictedConfigurations ?? []);
    for (const [key, schema] of Object.entries(settings)) {
      if (USER_ONLY.includes(schema.scope ?? 'window')) continue;
      assert.ok(restricted.has(key), `${key} can be set by the workspace but is not in restrictedConfigurations`);
    }
  });

  it('states that virtual workspaces are not supported (transfers need a real file system)', () => {
    const virtual = manifest.capabilities?.virtualWorkspaces;
    assert.ok(virtual && typeof virtual === 'object', 'capabilities.virtualWorkspaces is missing');
    assert.equal(virtual.supported, false);
    assert.ok(virtual.description);
  });
});
