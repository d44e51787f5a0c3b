import { redactUrl } from '../errors';
import type { UploadIo } from './protocol';

/**
 * "Upload to… a WebDAV folder": a PUT to the folder URL itself would try to replace the folder
 * (servers refuse it, or worse). When the endpoint is a collection, the file goes inside it
 * under its own name. A collection is a URL whose path ends in `/`, or one that a WebDAV server
 * describes as a collection when asked (PROPFIND, Depth 0).
 */

/** The URL of `filename` inside the collection at `folderUrl` (the name percent-encoded). */
export function fileUrlInFolder(folderUrl: string, filename: string): string {
  const url = new URL(folderUrl);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.pathname += encodeURIComponent(filename);
  return url.toString();
}

/** A PROPFIND answer is tiny for Depth 0; anything larger is not what we asked for. */
const MAX_PROPFIND_BYTES = 64 * 1024;

/** `<D:collection/>` (any namespace prefix) inside the resource type of a 207 answer. */
const COLLECTION = /<(?:[A-Za-z_][\w.-]*:)?collection\s*\/?>/;

/**
 * Where a PUT of this upload should go: inside the endpoint when the endpoint is a folder, else
 * the endpoint itself. `askServer` is false when the endpoint announced no WebDAV: then only the
 * trailing slash tells (a PROPFIND to a plain PUT endpoint, such as a signed storage URL, would be
 * a surprise to it).
 */
export async function putTargetFor(io: UploadIo, askServer: boolean, signal: AbortSignal): Promise<string> {
  const endpoint = io.endpoint;
  if (new URL(endpoint).pathname.endsWith('/') || (askServer && (await isCollection(io, endpoint, signal)))) {
    const target = fileUrlInFolder(endpoint, io.filename);
    io.logger.info(`${io.tag} ${redactUrl(endpoint)} is a folder: uploading to ${redactUrl(target)}`);
    return target;
  }
  return endpoint;
}

async function isCollection(io: UploadIo, url: string, signal: AbortSignal): Promise<boolean> {
  const response = await io.request(url, 'PROPFIND', { depth: '0' }, signal);
  try {
    if (response.status !== 207) return false;
    let text = '';
    for await (const chunk of response.body) {
      text += (chunk as Buffer).toString('utf8');
      if (text.length > MAX_PROPFIND_BYTES) return false;
    }
    return COLLECTION.test(text);
  } finally {
    response.discard();
  }
}
