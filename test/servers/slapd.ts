/**
 * A real OpenLDAP server for tests and benchmarks: Debian's slapd with a throwaway slapd.conf and
 * an mdb database in a temp dir, loaded with slapadd from generated LDIF, listening on free ports
 * of 127.0.0.1 only (ldap:// with StartTLS, and ldaps://), with certificates from a throwaway CA.
 * Started in the foreground (`-d 0`) and stopped by PID.
 *
 *   const server = await startSlapd({ entries: [...] });
 *   ... server.ldapsUrl, server.caFile, server.rootDn / server.rootPassword ...
 *   await server.stop();
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toLdif } from './ldif.js';
import type { LdifEntry } from './ldif.js';
import {
  LOOPBACK,
  ServerStartError,
  ensureServerPackages,
  freePort,
  run,
  startProcess,
  stopProcess,
  waitForPort,
} from './process.js';
import type { RunningProcess } from './process.js';
import { createCa, issueServerCert } from './tls.js';

export const DEFAULT_SUFFIX = 'dc=example,dc=test';

export interface SlapdOptions {
  /** Database suffix; the first entry given should be this entry. Default dc=example,dc=test. */
  readonly suffix?: string;
  /** Entries to load with slapadd, parents before children. */
  readonly entries?: Iterable<LdifEntry>;
  /** LDIF text to load instead of (or after) `entries`. */
  readonly ldif?: string;
  /** TLS listeners and StartTLS (default true). Without, StartTLS is refused by the server. */
  readonly tls?: boolean;
  /**
   * Database-section lines placed before the access rules: `limits ...`, `index ...`.
   * Default: equality indexes on objectClass, uid, cn, mail, member, uniqueMember.
   */
  readonly databaseConfig?: readonly string[];
  /** `access to ...` rules; default: userPassword for auth only, everything else readable. */
  readonly acl?: readonly string[];
  /** Password of the root DN (cn=admin,<suffix>). */
  readonly rootPassword?: string;
  /**
   * Load the syncprov overlay, as every replicated OpenLDAP has it: the suffix entry then
   * carries a `contextCSN` that every write moves. Default false.
   */
  readonly syncprov?: boolean;
}

export interface SlapdServer {
  readonly suffix: string;
  readonly rootDn: string;
  readonly rootPassword: string;
  /** ldap://127.0.0.1:<port> (StartTLS available when tls is on). */
  readonly url: string;
  /** ldaps://127.0.0.1:<port>; undefined without tls. */
  readonly ldapsUrl: string | undefined;
  readonly port: number;
  /** PEM of the CA that signed the server certificate; undefined without tls. */
  readonly caFile: string | undefined;
  readonly dir: string;
  readonly pid: number;
  /** Milliseconds spent in slapadd, and from spawn to listening. */
  readonly timings: { readonly load: number; readonly start: number };
  stop(): Promise<void>;
}

const DEFAULT_INDEXES = [
  'index objectClass eq',
  'index uid,cn,mail eq',
  'index member,uniqueMember eq',
  'index entryUUID eq',
];

const DEFAULT_ACL = [
  'access to attrs=userPassword by self write by anonymous auth by * none',
  'access to * by * read',
];

export async function startSlapd(options: SlapdOptions = {}): Promise<SlapdServer> {
  ensureServerPackages(['slapd', 'slapadd', 'openssl']);
  const suffix = options.suffix ?? DEFAULT_SUFFIX;
  const rootDn = `cn=admin,${suffix}`;
  const rootPassword = options.rootPassword ?? 'slapd-root-password';
  const tls = options.tls ?? true;
  const dir = await mkdtemp(join(tmpdir(), 'entrasync-slapd-'));
  let proc: RunningProcess | undefined;
  try {
    await mkdir(join(dir, 'db'));
    const port = await freePort();
    const ldapsPort = tls ? await freePort() : undefined;
    let tlsLines: string[] = [];
    let caFile: string | undefined;
    if (tls) {
      const ca = await createCa(dir, 'slapd');
      const cert = await issueServerCert(dir, ca, 'slapd-server');
      caFile = ca.certFile;
      tlsLines = [
        `TLSCACertificateFile ${ca.certFile}`,
        `TLSCertificateFile ${cert.certFile}`,
        `TLSCertificateKeyFile ${cert.keyFile}`,
      ];
    }
    const conf = [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/nis.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      ...(options.syncprov ? ['moduleload syncprov'] : []),
      `pidfile ${join(dir, 'slapd.pid')}`,
      `argsfile ${join(dir, 'slapd.args')}`,
      // slapd's default is 500 entries per search (and per paged search in all): tests set
      // their limits explicitly with `limits` lines instead.
      'sizelimit unlimited',
      'timelimit unlimited',
      ...tlsLines,
      'database mdb',
      'maxsize 4294967296',
      `suffix "${suffix}"`,
      `rootdn "${rootDn}"`,
      `rootpw ${rootPassword}`,
      `directory ${join(dir, 'db')}`,
      ...(options.databaseConfig ?? DEFAULT_INDEXES),
      ...(options.acl ?? DEFAULT_ACL),
      ...(options.syncprov ? ['overlay syncprov'] : []),
      '',
    ].join('\n');
    const confFile = join(dir, 'slapd.conf');
    await writeFile(confFile, conf);
    const ldifFile = join(dir, 'data.ldif');
    await writeFile(
      ldifFile,
      (options.entries ? toLdif(options.entries) : '') + (options.ldif ?? ''),
    );

    const loadStart = Date.now();
    await run('slapadd', ['-f', confFile, '-q', '-l', ldifFile], { timeoutMs: 600_000 });
    const load = Date.now() - loadStart;

    const urls = [`ldap://${LOOPBACK}:${port}/`];
    if (ldapsPort !== undefined) urls.push(`ldaps://${LOOPBACK}:${ldapsPort}/`);
    const startAt = Date.now();
    proc = startProcess('slapd', ['-f', confFile, '-h', urls.join(' '), '-d', '0']);
    await waitForPort(proc, port, 'slapd');
    if (ldapsPort !== undefined) await waitForPort(proc, ldapsPort, 'slapd (ldaps)');
    const start = Date.now() - startAt;
    const started = proc;
    return {
      suffix,
      rootDn,
      rootPassword,
      url: `ldap://${LOOPBACK}:${port}`,
      ldapsUrl: ldapsPort === undefined ? undefined : `ldaps://${LOOPBACK}:${ldapsPort}`,
      port,
      caFile,
      dir,
      pid: started.pid,
      timings: { load, start },
      stop: async () => {
        await stopProcess(started);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (proc) await stopProcess(proc);
    await rm(dir, { recursive: true, force: true });
    if (err instanceof ServerStartError) throw err;
    throw new ServerStartError(`slapd could not start: ${(err as Error).message}`);
  }
}
