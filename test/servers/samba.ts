/**
 * A real Active Directory domain controller for tests and benchmarks: Debian's Samba, provisioned
 * into a temp dir (`samba-tool domain provision --server-role=dc --dns-backend=NONE`, about 4 s),
 * seeded offline with `ldbadd` (fast: thousands of entries in a few seconds, through Samba's own
 * module stack, so objectGUID, objectSid and the rest are real), then run in the foreground
 * (`samba -i -M single`) with only the LDAP service, bound to 127.0.0.1.
 *
 * Samba listens on the fixed LDAP ports (389, 636, and 3268/3269 for the global catalog): it has
 * no port option. So only one Samba DC runs at a time on a machine: `startSambaDc` takes a lock
 * file (/tmp/entrasync-samba.lock, holding its PID; a dead holder's lock is taken over) and waits
 * for it, so test files and benchmarks that each start a DC take turns. A port that is busy for
 * any other reason fails the start with a clear message. LDAPS uses the certificate Samba generates on first start (CA in
 * `private/tls/ca.pem`), issued to `DC1.<realm>` with no IP address in it: clients connect to
 * 127.0.0.1 and verify against `tlsServerName`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LOOPBACK,
  ServerStartError,
  ensureServerPackages,
  portAccepts,
  run,
  startProcess,
  stopProcess,
  waitForPort,
} from './process.js';
import type { RunningProcess } from './process.js';

export interface SambaOptions {
  /** Realm, e.g. SAMDOM.EXAMPLE.TEST; the base DN follows from it. */
  readonly realm?: string;
  readonly domain?: string;
  readonly adminPassword?: string;
  /**
   * LDIF added with ldbadd before the server starts (use `baseDn` of `sambaNames()` to build
   * DNs). Users added here have no password; bind as the Administrator.
   */
  readonly ldif?: string;
}

export interface SambaServer {
  readonly realm: string;
  readonly baseDn: string;
  /** `Administrator@<realm>`: AD accepts a UPN as the bind name. */
  readonly adminBind: string;
  readonly adminPassword: string;
  readonly ldapsUrl: string;
  /** ldap:// with StartTLS. */
  readonly url: string;
  readonly caFile: string;
  /** Name in the server certificate, for `tlsServerName`. */
  readonly tlsServerName: string;
  readonly dir: string;
  readonly pid: number;
  readonly timings: { readonly provision: number; readonly seed: number; readonly start: number };
  stop(): Promise<void>;
}

export function sambaNames(realm = 'SAMDOM.EXAMPLE.TEST'): { baseDn: string; hostName: string } {
  return {
    baseDn: realm
      .toLowerCase()
      .split('.')
      .map((p) => `DC=${p}`)
      .join(','),
    hostName: `DC1.${realm.toLowerCase()}`,
  };
}

const LDAP_PORT = 389;
const LDAPS_PORT = 636;
const LOCK_FILE = join(tmpdir(), 'entrasync-samba.lock');
const LOCK_WAIT_MS = 10 * 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits for the machine-wide Samba lock; returns its release function. */
async function acquireSambaLock(): Promise<() => Promise<void>> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(LOCK_FILE, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        await unlink(LOCK_FILE).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(LOCK_FILE, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && !alive(holder)) {
      // The holder died without releasing it (killed test run): take it over.
      await unlink(LOCK_FILE).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new ServerStartError(
        `cannot start Samba: process ${holder} has held ${LOCK_FILE} for over ${LOCK_WAIT_MS / 60_000} minutes`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startSambaDc(options: SambaOptions = {}): Promise<SambaServer> {
  ensureServerPackages(['samba', 'samba-tool', 'ldbadd']);
  const realm = options.realm ?? 'SAMDOM.EXAMPLE.TEST';
  const domain = options.domain ?? 'SAMDOM';
  const adminPassword = options.adminPassword ?? 'Samba-Adm1n-Pass!';
  const { baseDn, hostName } = sambaNames(realm);
  const release = await acquireSambaLock();
  for (const port of [LDAP_PORT, LDAPS_PORT]) {
    if (await portAccepts(port)) {
      await release();
      throw new ServerStartError(
        `cannot start Samba: ${LOOPBACK}:${port} is already in use (another Samba test or a system LDAP server); Samba has no port option, so only one test DC can run at a time`,
      );
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'entrasync-samba-'));
  let proc: RunningProcess | undefined;
  try {
    const t0 = Date.now();
    // prettier-ignore
    await run('samba-tool', [
      'domain', 'provision', '--server-role=dc', '--dns-backend=NONE',
      `--realm=${realm}`, `--domain=${domain}`, `--adminpass=${adminPassword}`,
      `--targetdir=${dir}`, '--host-name=dc1',
      '--option=interfaces=127.0.0.1', '--option=bind interfaces only=yes',
      '--option=server services=ldap', `--option=pid directory=${dir}`,
      `--option=log file=${join(dir, 'samba.log')}`,
    ], { timeoutMs: 180_000 });
    const provision = Date.now() - t0;

    const t1 = Date.now();
    if (options.ldif !== undefined && options.ldif.trim() !== '') {
      const file = join(dir, 'seed.ldif');
      await writeFile(file, options.ldif);
      await run('ldbadd', ['-H', join(dir, 'private', 'sam.ldb'), file], { timeoutMs: 600_000 });
    }
    const seed = Date.now() - t1;

    const t2 = Date.now();
    const conf = join(dir, 'etc', 'smb.conf');
    proc = startProcess('samba', ['-i', '-M', 'single', '-s', conf], {
      env: { ...process.env, KRB5_CONFIG: join(dir, 'private', 'krb5.conf') },
    });
    await waitForPort(proc, LDAPS_PORT, 'samba', 60_000);
    await waitForPort(proc, LDAP_PORT, 'samba', 10_000);
    const caFile = join(dir, 'private', 'tls', 'ca.pem');
    if (!existsSync(caFile)) {
      throw new ServerStartError(
        `samba listens, but generated no CA certificate at ${caFile}:\n${proc.output()}`,
      );
    }
    const start = Date.now() - t2;
    const started = proc;
    return {
      realm,
      baseDn,
      adminBind: `Administrator@${realm.toLowerCase()}`,
      adminPassword,
      ldapsUrl: `ldaps://${LOOPBACK}:${LDAPS_PORT}`,
      url: `ldap://${LOOPBACK}:${LDAP_PORT}`,
      caFile,
      tlsServerName: hostName,
      dir,
      pid: started.pid,
      timings: { provision, seed, start },
      stop: async () => {
        try {
          await stopProcess(started);
          await rm(dir, { recursive: true, force: true });
        } finally {
          await release();
        }
      },
    };
  } catch (err) {
    if (proc) await stopProcess(proc);
    await rm(dir, { recursive: true, force: true });
    await release();
    if (err instanceof ServerStartError) throw err;
    throw new ServerStartError(`samba could not start: ${(err as Error).message}`);
  }
}
