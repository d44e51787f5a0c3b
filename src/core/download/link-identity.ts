/**
 * Whether two URLs name the same resource: same origin and path. A signed URL that was signed
 * again differs only in its query (signature, expiry), and still names the same object.
 */
export function sameResource(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.origin === y.origin && x.pathname === y.pathname;
  } catch {
    return a === b;
  }
}
