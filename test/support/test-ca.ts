/**
 * A certificate authority made at test time with the openssl command line: a CA, and a server
 * certificate for 127.0.0.1 / localhost signed by it. Nothing on the machine trusts the CA, so a
 * test decides trust itself (a CA file in the settings, NODE_EXTRA_CA_CERTS, or nothing).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestCa {
  /** PEM of the CA certificate, and the file that holds it. */
  caPem: string;
  caFile: string;
  /** The server's key and certificate (signed by the CA), for startTlsFront. */
  server: { key: string; cert: string };
  dispose(): void;
}

export function createTestCa(): TestCa {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-ca-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'),
    '-days', '2', '-subj', '/CN=Resumable Transfers test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.pem'),
    '-days', '2', '-extfile', file('server.ext'));
  return {
    caPem: readFileSync(file('ca.pem'), 'utf8'),
    caFile: file('ca.pem'),
    server: { key: readFileSync(file('server.key'), 'utf8'), cert: readFileSync(file('server.pem'), 'utf8') },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
