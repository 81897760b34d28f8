/**
 * The directory half of issue 11's workload: the same people as the HR CSV in a real OpenLDAP
 * server (slapd on loopback, ldaps://, with the syncprov overlay every replicated OpenLDAP has),
 * joined to the CSV by employee id, giving `mail` (HR wins for department, the directory for
 * mail, as in an HR + AD setup). Shared by bench/plan.ts and bench/daemon.ts.
 *
 * `adLdif` is written by the workload preparation; `startAdDirectory` loads it into slapd (bulk
 * slapadd, not timed as part of any figure) and `withAdJoin` adds the source, the join and the
 * mapping to a CSV-only config.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { organization, organizationalUnit } from '../test/servers/directory-data.js';
import { toLdif } from '../test/servers/ldif.js';
import type { LdifEntry } from '../test/servers/ldif.js';
import { startSlapd } from '../test/servers/slapd.js';
import type { SlapdServer } from '../test/servers/slapd.js';

const SUFFIX = 'dc=contoso,dc=example';
const PEOPLE = `ou=people,${SUFFIX}`;
/** The env variable the bench config reads the bind password from (never a literal in config). */
export const AD_PASSWORD_ENV = 'ENTRASYNC_BENCH_AD_PASSWORD';

export interface DirectoryPerson {
  readonly employeeId: string;
  readonly nickname: string;
  readonly displayName: string;
  readonly mail: string;
}

/** LDIF of the suffix, the people OU and one inetOrgPerson per person. */
export function adLdif(people: readonly DirectoryPerson[]): string {
  const entries: LdifEntry[] = [organization(SUFFIX), organizationalUnit('people', SUFFIX)];
  for (const p of people) {
    entries.push({
      dn: `uid=${p.nickname},${PEOPLE}`,
      objectClass: 'inetOrgPerson',
      uid: p.nickname,
      cn: p.displayName,
      sn: p.displayName.split(' ').pop() ?? p.displayName,
      employeeNumber: p.employeeId,
      mail: p.mail,
    });
  }
  return toLdif(entries);
}

/** Starts slapd with `<dir>/ad.ldif` loaded; the bind password goes into this process's env. */
export async function startAdDirectory(dir: string): Promise<SlapdServer> {
  const server = await startSlapd({
    suffix: SUFFIX,
    ldif: readFileSync(join(dir, 'ad.ldif'), 'utf8'),
    syncprov: true,
    databaseConfig: ['index objectClass eq', 'index uid,employeeNumber eq', 'index entryUUID eq'],
  });
  process.env[AD_PASSWORD_ENV] = server.rootPassword;
  return server;
}

/** The config with the directory as a second source, joined by employee id, giving `mail`. */
export function withAdJoin(config: string, server: SlapdServer): string {
  const source = [
    '  ad:',
    '    kind: ldap',
    `    url: ${server.ldapsUrl ?? ''}`,
    `    caFile: ${server.caFile ?? ''}`,
    `    bindDn: "${server.rootDn}"`,
    `    password: "\${env:${AD_PASSWORD_ENV}}"`,
    `    baseDn: "${PEOPLE}"`,
    '    key: employeeNumber',
    '    attributes: [employeeNumber, mail]',
    'join:',
    '  primary: hr',
    '  link:',
    '    ad:',
    '      key: employeeNumber',
    '      equals: employee_id',
  ].join('\n');
  const withSource = config.replace(/^(sources:\n(?: {2,}.*\n)+)/m, `$1${source}\n`);
  const withMail = withSource.replace(/^( {4}displayName: .*\n)/m, `$1    mail: "$ad.mail"\n`);
  if (withSource === config || withMail === withSource) {
    throw new Error('bench config: could not add the directory source and its mapping');
  }
  return withMail;
}
