/**
 * Throwaway certificates for test servers, made with the openssl command line: a CA, and server
 * certificates it signs for 127.0.0.1 / localhost. A second, unrelated CA lets a test show that a
 * certificate from an untrusted CA is refused (X2).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './process.js';

export interface TestCa {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface ServerCert {
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA that signed it. */
  readonly caFile: string;
}

export async function createCa(dir: string, name: string): Promise<TestCa> {
  const certFile = join(dir, `${name}-ca.pem`);
  const keyFile = join(dir, `${name}-ca.key`);
  // prettier-ignore
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-subj', `/CN=entrasync test CA ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', keyFile, '-out', certFile,
  ]);
  return { certFile, keyFile };
}

export async function issueServerCert(
  dir: string,
  ca: TestCa,
  name: string,
  names: { readonly dns?: readonly string[]; readonly ips?: readonly string[] } = {},
): Promise<ServerCert> {
  const dns = names.dns ?? ['localhost'];
  const ips = names.ips ?? ['127.0.0.1'];
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.pem`);
  const extFile = join(dir, `${name}.ext`);
  const san = [...dns.map((d) => `DNS:${d}`), ...ips.map((i) => `IP:${i}`)].join(',');
  await writeFile(
    extFile,
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
      `extendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
  );
  // prettier-ignore
  await run('openssl', [
    'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-sha256',
    '-subj', `/CN=${dns[0] ?? ips[0] ?? name}`,
    '-keyout', keyFile, '-out', csrFile,
  ]);
  // prettier-ignore
  await run('openssl', [
    'x509', '-req', '-in', csrFile, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial',
    '-days', '2', '-sha256', '-extfile', extFile, '-out', certFile,
  ]);
  return { certFile, keyFile, caFile: ca.certFile };
}
