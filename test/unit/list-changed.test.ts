import assert from 'node:assert/strict';
import { listChanged } from '../../src/vscode/listChanged';

describe('listChanged (when the Transfers view must re-read its rows)', () => {
  it('a transfer in the list before its first change event still adds a row', () => {
    // The repaint that follows a download's progress tick finds an upload just added: its id is new.
    assert.equal(listChanged(new Set(['download']), ['download', 'upload']), true);
  });

  it('a transfer removed from the list removes its row', () => {
    assert.equal(listChanged(new Set(['a', 'b']), ['a']), true);
  });

  it('one replaced by another of the same count is a change', () => {
    assert.equal(listChanged(new Set(['a', 'b']), ['a', 'c']), true);
  });

  it('the same transfers in any order are no change: only their rows repaint', () => {
    assert.equal(listChanged(new Set(['a', 'b']), ['b', 'a']), false);
    assert.equal(listChanged(new Set(), []), false);
  });
});
