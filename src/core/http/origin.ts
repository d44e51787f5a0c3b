/**
 * The origin a user's header is bound to: scheme, host and port (RFC 6454), as the URL standard
 * serialises it: lower case, the default port left out (`https://files.example.com`,
 * `http://127.0.0.1:8080`). https and http of the same host and port are two origins, so what
 * was given for one never reaches the other in clear text. Every store of headers keys by this.
 */
export function originOf(url: string | URL): string | undefined {
  try {
    const parsed = typeof url === 'string' ? new URL(url.trim()) : url;
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}
