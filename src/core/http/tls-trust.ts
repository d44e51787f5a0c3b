import { readFileSync } from 'node:fs';
import type * as https from 'node:https';
import * as tls from 'node:tls';

/*
 * Which servers we trust: Node's certificate store (with NODE_EXTRA_CA_CERTS), plus authorities
 * the user added. Used by the direct https agent and by the proxy's CONNECT tunnel alike.
 */

/**
 * TLS options trusting `extra` besides Node's default store. Setting `ca` replaces that store, so
 * the defaults (with NODE_EXTRA_CA_CERTS where Node can tell) go in first.
 */
export function trustedCas(extra: readonly string[] | undefined): https.AgentOptions {
  if (!extra || extra.length === 0) return {};
  const getDefaults = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  const defaults = getDefaults ? getDefaults('default') : [...tls.rootCertificates, ...environmentCas()];
  return { ca: [...defaults, ...extra] };
}

/** NODE_EXTRA_CA_CERTS as Node reads it at start-up (older Node cannot tell us). */
function environmentCas(): string[] {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return [];
  try {
    return [readFileSync(file, 'utf8')];
  } catch {
    return [];
  }
}

/** Certificate verification failures (OpenSSL's names, as Node reports them). */
export const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_REVOKED', 'CERT_SIGNATURE_FAILURE', 'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH',
]);

