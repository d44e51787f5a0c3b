import assert from 'node:assert/strict';
import { fileUrlInFolder } from '../../src/core/upload/webdav-folder';

describe('fileUrlInFolder: the URL of a file inside a WebDAV folder', () => {
  const cases: Array<[string, string, string]> = [
    ['https://dav.test/inbox/', 'a.bin', 'https://dav.test/inbox/a.bin'],
    ['https://dav.test/inbox', 'a.bin', 'https://dav.test/inbox/a.bin'],
    ['https://dav.test/', 'report #1 (final).bin', 'https://dav.test/report%20%231%20(final).bin'],
    ['https://dav.test/in%20box/', '年报.pdf', 'https://dav.test/in%20box/%E5%B9%B4%E6%8A%A5.pdf'],
    ['https://dav.test/inbox/?token=x', 'a/b?.bin', 'https://dav.test/inbox/a%2Fb%3F.bin?token=x'],
  ];
  for (const [folder, name, expected] of cases) {
    it(`${folder} + ${name} → ${expected}`, () => assert.equal(fileUrlInFolder(folder, name), expected));
  }
});
