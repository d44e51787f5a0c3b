/**
 * Whether the list of transfers differs from the one last shown: an id added or gone. Read from
 * the list itself, not from change events: a transfer is in the manager's list a moment before its
 * first event (its record is saved in between), and a repaint in that moment would otherwise count
 * it as known, so that its row never appeared.
 */
export function listChanged(shown: ReadonlySet<string>, current: readonly string[]): boolean {
  return current.length !== shown.size || current.some((id) => !shown.has(id));
}
