/**
 * Benchmark: the LDAP source reading 100,000 people from a real OpenLDAP server (slapd on
 * loopback, ldaps://) and a smaller set from a real Samba AD DC, with pages of 100 and of 1,000,
 * reporting wall time and peak memory of the reading process.
 *
 * This process starts the servers (test/servers/) and forks itself once per measurement, so each
 * read's memory figures are its own. Run (Node has no TypeScript loader here, so compile first):
 *
 *   npx tsc -p tsconfig.json --noEmit false --outDir node_modules/.cache/entrasync-bench
 *   node --expose-gc node_modules/.cache/entrasync-bench/bench/ldap-read.js [slapdCount] [sambaCount]
 *
 * Defaults: 100,000 from slapd, 5,000 from Samba (0 skips Samba, which needs ports 389/636 of
 * 127.0.0.1 free). Prints one JSON line per read (server, entries, pageSize, status, wallMs,
 * entriesPerSecond, peakRssMiB = OS high-water mark of the reader process, peakHeapMiB sampled
 * every 10 ms, baselineRssMiB before the read) and a table; setup times go to stderr.
 */
import { fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createLdapSource } from '../connectors/ldap/index.js';
import type { LdapSourceOptions } from '../connectors/ldap/index.js';
import { Redactor } from '../engine/secret.js';
import { aConnectorContext } from '../test/helpers/connector-context.js';
import {
  adUsers,
  openLdapPeople,
  organization,
  organizationalUnit,
} from '../test/servers/directory-data.js';
import { toLdif } from '../test/servers/ldif.js';
import { sambaNames, startSambaDc } from '../test/servers/samba.js';
import { startSlapd } from '../test/servers/slapd.js';

interface Measurement {
  readonly server: string;
  readonly entries: number;
  readonly pageSize: number;
  readonly status: string;
  readonly records: number;
  readonly wallMs: number;
  readonly entriesPerSecond: number;
  readonly peakRssMiB: number;
  readonly baselineRssMiB: number;
  readonly peakHeapMiB: number;
}

interface Job {
  readonly server: string;
  readonly expected: number;
  readonly options: LdapSourceOptions;
  readonly password: string;
}

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Child process: one read, one JSON line on stdout. */
async function measure(job: Job): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  const baselineRss = process.memoryUsage().rss;
  let peakHeap = 0;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 10);
  const source = createLdapSource(
    'bench',
    job.options,
    aConnectorContext(tmpdir(), { BENCH_LDAP_PASSWORD: job.password }, new Redactor()),
  );
  const started = performance.now();
  const snapshot = await source.read();
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  const result: Measurement = {
    server: job.server,
    entries: job.expected,
    pageSize: job.options.pageSize ?? 1000,
    status: snapshot.status,
    records: snapshot.records.length,
    wallMs: Math.round(wallMs),
    entriesPerSecond: Math.round(snapshot.records.length / (wallMs / 1000)),
    peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    baselineRssMiB: mib(baselineRss),
    peakHeapMiB: mib(peakHeap),
  };
  console.log(JSON.stringify(result));
  if (snapshot.status !== 'complete' || snapshot.records.length !== job.expected) {
    console.error(JSON.stringify(snapshot.issues.slice(0, 5)));
    process.exitCode = 1;
  }
}

function runChild(job: Job): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['measure'], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        const m = JSON.parse(line) as Measurement;
        if (code !== 0) reject(new Error(`read was not complete: ${line}`));
        else resolve(m);
      } catch {
        reject(new Error(`measurement failed (exit ${String(code)}): ${out}`));
      }
    });
    child.send(job);
  });
}

const password = {
  kind: 'secretRef',
  scheme: 'env',
  name: 'BENCH_LDAP_PASSWORD',
  text: '${env:BENCH_LDAP_PASSWORD}',
  path: 'sources.bench.password',
} as const;

async function main(): Promise<void> {
  if (process.argv[2] === 'measure') {
    const job = await new Promise<Job>((resolve) =>
      process.once('message', (m) => resolve(m as Job)),
    );
    process.disconnect?.();
    await measure(job);
    return;
  }
  const slapdCount = Number(process.argv[2] ?? 100_000);
  const sambaCount = Number(process.argv[3] ?? 5_000);
  const results: Measurement[] = [];

  const suffix = 'dc=example,dc=test';
  const t0 = Date.now();
  const slapd = await startSlapd({
    suffix,
    entries: [
      organization(suffix),
      organizationalUnit('people', suffix),
      ...openLdapPeople(`ou=people,${suffix}`, slapdCount),
    ],
  });
  console.error(
    `slapd: ${slapdCount} entries, slapadd ${slapd.timings.load} ms, start ${slapd.timings.start} ms (setup ${Date.now() - t0} ms)`,
  );
  try {
    for (const pageSize of [100, 1000]) {
      const m = await runChild({
        server: 'slapd',
        expected: slapdCount,
        password: slapd.rootPassword,
        options: {
          kind: 'ldap',
          url: slapd.ldapsUrl ?? '',
          caFile: slapd.caFile ?? '',
          bindDn: slapd.rootDn,
          password,
          baseDn: `ou=people,${suffix}`,
          key: 'entryUUID',
          attributes: [
            'uid',
            'cn',
            'givenName',
            'sn',
            'mail',
            'employeeNumber',
            'title',
            'departmentNumber',
          ],
          pageSize,
        },
      });
      console.log(JSON.stringify(m));
      results.push(m);
    }
  } finally {
    await slapd.stop();
  }

  if (sambaCount > 0) {
    const { baseDn } = sambaNames();
    const ou = `OU=Bench,${baseDn}`;
    const t1 = Date.now();
    const dc = await startSambaDc({
      ldif: toLdif([{ dn: ou, objectClass: 'organizationalUnit' }, ...adUsers(ou, sambaCount)]),
    });
    console.error(
      `samba: ${sambaCount} users, provision ${dc.timings.provision} ms, ldbadd ${dc.timings.seed} ms, start ${dc.timings.start} ms (setup ${Date.now() - t1} ms)`,
    );
    try {
      for (const pageSize of [100, 1000]) {
        const m = await runChild({
          server: 'samba',
          expected: sambaCount,
          password: dc.adminPassword,
          options: {
            kind: 'ldap',
            url: dc.ldapsUrl,
            caFile: dc.caFile,
            tlsServerName: dc.tlsServerName,
            bindDn: dc.adminBind,
            password,
            baseDn: ou,
            key: 'objectGUID',
            attributes: [
              'sAMAccountName',
              'userPrincipalName',
              'displayName',
              'mail',
              'employeeID',
              'objectGUID',
              'userAccountControl',
              'whenChanged',
            ],
            pageSize,
          },
        });
        console.log(JSON.stringify(m));
        results.push(m);
      }
    } finally {
      await dc.stop();
    }
  }

  console.log('\nserver  entries  pageSize  wall ms  entries/s  peak RSS MiB  peak heap MiB');
  for (const r of results) {
    console.log(
      `${r.server.padEnd(7)} ${String(r.entries).padStart(7)}  ${String(r.pageSize).padStart(8)}  ${String(r.wallMs).padStart(7)}  ${String(r.entriesPerSecond).padStart(9)}  ${String(r.peakRssMiB).padStart(12)}  ${String(r.peakHeapMiB).padStart(13)}`,
    );
  }
}

await main();
