import { TransferError, redactUrl } from '../errors';
import type { HttpHeaders } from '../http/client';
import { isRetryableStatus } from '../transfer/retry';
import {
  IETF_INTEROP_VERSION,
  TUS_VERSION,
  acceptsPartialUpload,
  allowsMethod,
  announcesDav,
  parseCount,
  parseTokenList,
  parseUploadLimit,
  type UploadLimits,
} from './headers';
import type { UploadIo, UploadProtocol } from './protocol';
import { IETF_VERSIONS, parseIetfVersion } from './ietf-versions';

/** What one endpoint told us about itself, and the protocol we chose from it. */
export interface EndpointCapabilities {
  protocol: UploadProtocol;
  /** tus: the `Tus-Extension` list (lower-case), e.g. creation, termination, checksum. */
  tusExtensions?: string[];
  /** tus: the `Tus-Checksum-Algorithm` list (lower-case). */
  tusChecksumAlgorithms?: string[];
  /** tus: `Tus-Max-Size`. */
  tusMaxSize?: number;
  /** IETF: limits from `Upload-Limit`. */
  limits?: UploadLimits;
  /** IETF: the interop version the endpoint announced, when it is one we speak. */
  interopVersion?: number;
  /** The endpoint announced WebDAV (`DAV` on a 2xx OPTIONS): it may be a folder. */
  webDav?: boolean;
  /** Which headers decided it, for the log. */
  evidence: string;
}

/** Headers we send with the OPTIONS probe so that servers of every protocol answer in kind. */
export function probeHeaders(): Record<string, string> {
  return {
    'tus-resumable': TUS_VERSION,
    'upload-draft-interop-version': String(IETF_INTEROP_VERSION),
  };
}

/**
 * Chooses the protocol from the answer to `OPTIONS <endpoint>` (a pure function: the rules live
 * here and in its table test). Order: tus, IETF draft, WebDAV partial PUT, plain PUT.
 */
export function classifyEndpoint(status: number, headers: HttpHeaders): EndpointCapabilities {
  const ok = status >= 200 && status < 300;
  const tusVersions = parseTokenList(headers.get('tus-version'));
  const tusResumable = headers.get('tus-resumable');
  if (tusVersions.includes(TUS_VERSION) || (tusVersions.length === 0 && tusResumable?.trim() === TUS_VERSION)) {
    return {
      protocol: 'tus',
      tusExtensions: parseTokenList(headers.get('tus-extension')),
      tusChecksumAlgorithms: parseTokenList(headers.get('tus-checksum-algorithm')),
      tusMaxSize: parseCount(headers.get('tus-max-size')),
      evidence: `Tus-Version ${headers.get('tus-version') ?? tusResumable}; extensions ${headers.get('tus-extension') ?? 'none'}`,
    };
  }
  const interop = headers.get('upload-draft-interop-version')?.trim();
  const version = parseIetfVersion(interop);
  // Version 9 servers no longer list Accept-Patch in OPTIONS; Upload-Limit belongs to the draft too.
  const limitHeader = headers.get('upload-limit');
  const byHeaders = ok && interop === undefined && (acceptsPartialUpload(headers.get('accept-patch')) || parseUploadLimit(limitHeader) !== undefined);
  if (version !== undefined || byHeaders) {
    return {
      protocol: 'ietf',
      limits: parseUploadLimit(limitHeader),
      interopVersion: version,
      evidence:
        version !== undefined
          ? `Upload-Draft-Interop-Version ${interop}`
          : headers.get('accept-patch')
            ? `Accept-Patch ${headers.get('accept-patch')}`
            : `Upload-Limit ${limitHeader}`,
    };
  }
  const allow = headers.get('allow');
  if (ok && announcesDav(headers.get('dav')) && (allow === null || allowsMethod(allow, 'PUT'))) {
    return { protocol: 'put-range', webDav: true, evidence: `DAV ${headers.get('dav')}` };
  }
  const why = interop !== undefined ? `interop version ${interop} is not one we speak (${IETF_VERSIONS.join(', ')})` : 'no resumable protocol announced';
  const webDav = ok && announcesDav(headers.get('dav'));
  return { protocol: 'put', webDav, evidence: ok ? why : `OPTIONS answered ${status}: ${why}` };
}

/**
 * Asks the endpoint with OPTIONS. Authentication failures and server errors are reported (the
 * failure funnel decides whether to retry); other refusals of OPTIONS (404, 405, 501...) only mean
 * the endpoint does not advertise anything, so the plain PUT is what remains.
 */
export async function detectEndpoint(io: UploadIo, signal: AbortSignal): Promise<EndpointCapabilities> {
  const response = await io.request(io.endpoint, 'OPTIONS', probeHeaders(), signal);
  response.discard();
  const { status } = response;
  if (status === 401 || status === 403 || status === 407 || isRetryableStatus(status)) {
    throw new TransferError('ERR_HTTP_STATUS', `server answered ${status} to OPTIONS ${redactUrl(io.endpoint)}`, {
      status,
      retryAfter: response.headers.get('retry-after') ?? undefined,
    });
  }
  return classifyEndpoint(status, response.headers);
}
