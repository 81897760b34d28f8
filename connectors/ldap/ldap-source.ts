/**
 * The LDAP / Active Directory source: one paged search per base DN, one record per entry.
 *
 * The read never returns a shorter list as if it were the whole directory. Each way a directory
 * can answer with less than everything decides the snapshot's status, and every issue names the
 * LDAP result code:
 *
 * - `failed` (no records): options that cannot work, a secret that does not resolve, a refused
 *   cleartext connection, a TCP/TLS/StartTLS/bind failure, or a search that fails before any
 *   entry came back (S2).
 * - `incomplete` (the records read so far): `timeLimitExceeded`, `sizeLimitExceeded` or
 *   `adminLimitExceeded` at any page, however many entries came back (S3); any other error or a
 *   dropped connection after the first page; a continuation reference (referral) unless
 *   `referrals: ignore` (S6); an empty page that still carries a paging cookie (see
 *   page-watch.ts); an entry without the key attribute; a value that does not decode; a range
 *   retrieval or group read that did not finish; a final search response without a
 *   paged-results control (the server ignored paging, S14); a page of entries already read
 *   (a paging cookie handed back again, S15: the read stops there; a cookie alone may repeat,
 *   as Samba's and AD's context cookie does on every page).
 * - `complete` otherwise, including zero entries, which comes with a `source.empty` warning and
 *   the hint that the bind account may lack read access (S1, S4): the engine compares counts
 *   with the managed population, which it alone knows.
 *
 * `sizeLimit` is never set on these searches: ldapts returns the partial result of a search with
 * a client-side `sizeLimit` as if it were complete (catalogue 4.4). Paging always uses
 * `searchPaginated` with the configured page size (default 1,000, not ldapts' 100).
 *
 * References to Active Directory's own other partitions (Configuration, Schema, DNS zones: naming
 * contexts this same DC lists in its root DSE) are skipped without an issue: AD returns them
 * for every search from the domain root, and they hold no people.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FilterParser } from 'ldapts';
import type { Entry, SearchResult } from 'ldapts';
import type {
  SourceIssue,
  SourceRecord,
  SourceSnapshot,
  SourceStatus,
  SourceValue,
} from '../../engine/model/source.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import type { ConnectorContext, SourceConnector } from '../../engine/ports.js';
import type { Secret } from '../../engine/secret.js';
import {
  ConnectError,
  SessionLost,
  assertSession,
  closeQuietly,
  createLdaptsClient,
  openSession,
  sessionLost,
} from './connection.js';
import type {
  ClientFactory,
  ConnectionSettings,
  RootDse,
  Session,
  Transport,
} from './connection.js';
import { binaryAttributeNames } from './decode.js';
import { completeRange, declaredFields, entryFields, entryValues } from './entries.js';
import type { FieldPlan } from './entries.js';
import { normalizeDn, parseDn } from './escape.js';
import { readMembership } from './groups.js';
import type { GroupSettings, Membership, PersonSearch } from './groups.js';
import {
  DEFAULT_ATTRIBUTES,
  DEFAULT_CONNECT_TIMEOUT_SECONDS,
  DEFAULT_MULTI_VALUED,
  DEFAULT_PAGE_SIZE,
  DEFAULT_RANGE_SIZE,
  DEFAULT_TIMEOUT_SECONDS,
} from '../../config/sources/ldap-options.js';
import type { LdapSourceOptions } from '../../config/sources/ldap-options.js';
import { watchSearchResponses } from './page-watch.js';
import type { SearchDone } from './page-watch.js';
import { LIMIT_CODES, describeFailure } from './result-codes.js';

/** Per-entry issues of one code beyond this many are summed up in one last issue. */
export const MAX_ISSUES_PER_CODE = 100;

const AD_PERSON_FILTER = '(&(objectCategory=person)(objectClass=user))';
const LDAP_PERSON_FILTER = '(objectClass=person)';
const AD_GROUP_FILTER = '(objectClass=group)';
const LDAP_GROUP_FILTER = '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))';

/** Test seams; production code passes nothing. */
export interface LdapSourceDependencies {
  readonly createClient?: ClientFactory;
}

export function createLdapSource(
  name: string,
  options: LdapSourceOptions,
  context: ConnectorContext,
  dependencies: LdapSourceDependencies = {},
): SourceConnector {
  const memo: ReadMemo = {};
  return {
    apiVersion: PORT_API_VERSION,
    kind: 'ldap',
    name,
    read: () =>
      readLdap(name, options, context, dependencies.createClient ?? createLdaptsClient, memo).catch(
        // A bug here must still not look like an empty directory, nor escape as a throw.
        (err: unknown): SourceSnapshot => ({
          name,
          kind: 'ldap',
          status: 'failed',
          fields: [],
          records: [],
          issues: [
            {
              severity: 'error',
              code: 'source.internal',
              message: context.redactor.redact(
                `${name}: the read failed unexpectedly: ${describeFailure(err).text}`,
              ),
            },
          ],
        }),
      ),
  };
}

/** Everything decided from the options before a socket is opened. */
interface Plan {
  readonly connection: ConnectionSettings;
  readonly bases: readonly string[];
  readonly scope: 'sub' | 'one' | 'base';
  readonly filter: string | undefined;
  readonly fieldPlan: FieldPlan;
  readonly key: string;
  readonly pageSize: number;
  readonly referrals: 'incomplete' | 'ignore';
  readonly directory: 'auto' | 'ad' | 'ldap';
}

/** Collects issues and the worst status seen; caps per-entry issues. */
class Findings {
  readonly issues: SourceIssue[] = [];
  status: SourceStatus = 'complete';
  readonly #counts = new Map<string, number>();
  readonly #redact: (text: string) => string;

  constructor(redact: (text: string) => string) {
    this.#redact = redact;
  }

  add(issue: SourceIssue, effect: SourceStatus = 'complete'): void {
    this.issues.push({ ...issue, message: this.#redact(issue.message) });
    this.worsen(effect);
  }

  /** An issue about one entry; only the first MAX_ISSUES_PER_CODE of a code are listed. */
  perEntry(issue: SourceIssue, effect: SourceStatus = 'complete'): void {
    const n = (this.#counts.get(issue.code) ?? 0) + 1;
    this.#counts.set(issue.code, n);
    if (n <= MAX_ISSUES_PER_CODE) this.add(issue);
    this.worsen(effect);
  }

  worsen(effect: SourceStatus): void {
    if (effect === 'failed' || (effect === 'incomplete' && this.status === 'complete')) {
      this.status = effect;
    }
  }

  overflow(source: string): void {
    for (const [code, n] of this.#counts) {
      if (n <= MAX_ISSUES_PER_CODE) continue;
      const listed = this.issues.find((i) => i.code === code);
      this.issues.push({
        severity: listed?.severity ?? 'warning',
        code,
        message: `${source}: ${n - MAX_ISSUES_PER_CODE} more ${code} issue(s) not listed (${n} in all)`,
      });
    }
  }
}

/** The last complete read and the directory's change token at its start. */
interface ReadMemo {
  last?: { readonly token: string; readonly snapshot: SourceSnapshot };
}

async function readLdap(
  name: string,
  options: LdapSourceOptions,
  context: ConnectorContext,
  createClient: ClientFactory,
  memo: ReadMemo,
): Promise<SourceSnapshot> {
  const findings = new Findings((text) => context.redactor.redact(text));
  const records: SourceRecord[] = [];
  let fields: string[] = ['dn'];
  const snapshot = (): SourceSnapshot => {
    findings.overflow(name);
    return {
      name,
      kind: 'ldap',
      status: findings.status,
      fields,
      records: findings.status === 'failed' ? [] : records,
      issues: findings.issues,
    };
  };
  const fail = (code: string, message: string): SourceSnapshot => {
    findings.add({ severity: 'error', code, message: `${name}: ${message}` }, 'failed');
    return snapshot();
  };

  const planned = await planRead(options, context.baseDir);
  if (!planned.ok) return fail(planned.code, planned.message);
  const plan = planned.plan;
  fields = declaredFields(plan.fieldPlan, options.groups !== undefined);

  let password: Secret | undefined;
  if (options.password !== undefined) {
    try {
      password = context.resolveSecret(options.password);
    } catch (err) {
      // A ConfigError naming the variable or file, never a value (M6); nothing was connected.
      return fail('source.secret', err instanceof Error ? err.message : String(err));
    }
  }

  if (plan.connection.transport === 'cleartext') {
    findings.add({
      severity: 'warning',
      code: 'source.insecure',
      message:
        `${name}: reading ${plan.connection.url} without TLS (allowInsecure: true): ` +
        (plan.connection.bindDn !== undefined ? 'the bind password and ' : '') +
        'every record cross the network in cleartext',
    });
  }

  let session: Session;
  try {
    session = await openSession(plan.connection, password, createClient);
  } catch (err) {
    const { code, message } =
      err instanceof ConnectError
        ? describeConnectError(err, plan.connection)
        : { code: 'source.connect', message: describeFailure(err).text };
    return fail(code, message);
  }

  try {
    const directory =
      plan.directory === 'auto'
        ? session.rootDse?.activeDirectory
          ? 'ad'
          : 'ldap'
        : plan.directory;
    if (plan.directory === 'auto' && session.rootDse === undefined) {
      findings.add({
        severity: 'warning',
        code: 'source.root-dse',
        message: `${name}: the server did not show its root DSE; reading it as a plain LDAP directory (set \`directory\` to say otherwise)`,
      });
    }
    const token = await changeToken(session, plan.bases);
    if (token !== undefined && memo.last?.token === token) return memo.last.snapshot;
    memo.last = undefined;
    const filter = plan.filter ?? (directory === 'ad' ? AD_PERSON_FILTER : LDAP_PERSON_FILTER);
    const reader = new PagedReader(session, plan, findings, name);

    const entries: Entry[] = [];
    const seen = new Set<string>();
    let failedAt: string | undefined;
    for (const base of plan.bases) {
      const ok = await reader.run(
        base,
        { scope: plan.scope, filter, attributes: [...plan.fieldPlan.attributes] },
        (entry) => {
          // One search returns each entry once; only overlapping bases can repeat one.
          if (plan.bases.length > 1) {
            const dnKey = normalizeDn(entry.dn);
            if (seen.has(dnKey)) return;
            seen.add(dnKey);
          }
          entries.push(entry);
        },
        'people',
      );
      if (!ok) {
        failedAt ??= base;
        if (reader.connectionLost || sessionLost(session)) break;
      }
    }
    // Nothing came back and the search itself failed: nothing trustworthy was read.
    if (failedAt !== undefined && entries.length === 0 && !reader.limitHit) {
      findings.worsen('failed');
      return snapshot();
    }

    const explicitBuffers = binaryAttributeNames(plan.fieldPlan.attributes);
    let membership: Membership | undefined;
    if (options.groups && findings.status !== 'failed' && !reader.connectionLost) {
      membership = await readGroupsSafely(
        session,
        plan,
        options,
        directory,
        filter,
        reader,
        findings,
        name,
      );
    }

    entryLoop: for (const entry of entries) {
      const values = entryValues(entry);
      for (const slice of values.ranged) {
        const attribute = slice.attribute.toLowerCase();
        try {
          assertSession(session);
          const rest = await completeRange(
            session.client,
            entry.dn,
            slice,
            DEFAULT_RANGE_SIZE,
            explicitBuffers,
          );
          values.values.set(attribute, [...(values.values.get(attribute) ?? []), ...rest]);
        } catch (err) {
          findings.perEntry(
            {
              severity: 'error',
              code: 'source.range',
              message: `${name}: ${entry.dn}: could not read all values of ${slice.attribute} (${describeFailure(err).text}); the entry is left out`,
              location: { dn: entry.dn },
            },
            'incomplete',
          );
          continue entryLoop;
        }
      }
      let groupFields: Record<string, SourceValue> | undefined;
      if (membership) {
        const groups = membership.get(normalizeDn(entry.dn)) ?? [];
        const sorted = [...groups].sort((a, b) => compare(a.name, b.name) || compare(a.dn, b.dn));
        groupFields = { groups: sorted.map((g) => g.name), groupDns: sorted.map((g) => g.dn) };
      }
      const record = toRecord(name, values, plan, findings, groupFields);
      if (record) records.push(record);
    }

    if (records.length === 0 && findings.status === 'complete') {
      await reportEmpty(session, plan, filter, findings, name);
    }
    const result = snapshot();
    if (token !== undefined && result.status === 'complete')
      memo.last = { token, snapshot: result };
    return result;
  } finally {
    // A connection that died is not unbound: there is nothing left to close it on.
    if (!sessionLost(session)) await closeQuietly(session.client);
  }
}

/**
 * A value that moves whenever anything the read could return changed, taken before the read so
 * a change during it shows as a new token next time; undefined when the directory offers none
 * (the read then always runs in full).
 *
 * - Active Directory: the domain controller's `highestCommittedUSN` (root DSE), which every
 *   originating or replicated write, move or delete raises, with the DC's name (another DC
 *   counts its own USNs). A busy DC moves it often; a false "changed" only costs a full read.
 * - OpenLDAP with the syncprov overlay (any replicated directory has it): the `contextCSN` of
 *   each naming context holding a search base, which every add, modify, rename and delete moves.
 */
async function changeToken(
  session: Session,
  bases: readonly string[],
): Promise<string | undefined> {
  const rootDse = session.rootDse;
  if (rootDse === undefined) return undefined;
  if (rootDse.highestCommittedUSN !== undefined) {
    return `usn ${rootDse.dnsHostName ?? ''} ${rootDse.highestCommittedUSN}`;
  }
  const contexts = new Set<string>();
  for (const base of bases) {
    const normalized = normalizeDn(base);
    const context = rootDse.namingContexts.find((nc) => {
      const n = normalizeDn(nc);
      return normalized === n || normalized.endsWith(`,${n}`);
    });
    if (context === undefined) return undefined;
    contexts.add(context);
  }
  const parts: string[] = [];
  for (const context of [...contexts].sort()) {
    try {
      const { searchEntries } = await session.client.search(context, {
        scope: 'base',
        filter: '(objectClass=*)',
        attributes: ['contextCSN'],
      });
      const csn = searchEntries[0]?.['contextCSN'];
      const values = (Array.isArray(csn) ? csn : csn === undefined ? [] : [csn]).map(String);
      if (values.length === 0) return undefined;
      parts.push(`${context} ${values.sort().join(' ')}`);
    } catch {
      return undefined;
    }
  }
  return parts.length === 0 ? undefined : `csn ${parts.join(';')}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toRecord(
  name: string,
  values: ReturnType<typeof entryValues>,
  plan: Plan,
  findings: Findings,
  extraFields: Record<string, SourceValue> | undefined,
): SourceRecord | undefined {
  const decoded = entryFields(values, plan.fieldPlan);
  const { extraValues, problems } = decoded;
  const fields = extraFields ? { ...decoded.fields, ...extraFields } : decoded.fields;
  const location = { dn: values.dn };
  for (const p of problems) {
    findings.perEntry(
      {
        severity: 'error',
        code: 'source.decode',
        message: `${name}: ${values.dn}: ${p.attribute}: ${p.message}`,
        location,
      },
      'incomplete',
    );
  }
  const keyValue = fields[plan.key];
  if (typeof keyValue !== 'string' && typeof keyValue !== 'number') {
    findings.perEntry(
      {
        severity: 'error',
        code: 'source.missing-key',
        message:
          `${name}: ${values.dn} has no usable value in key attribute ${JSON.stringify(plan.key)}; ` +
          'it is left out, and the source is incomplete so no account is deprovisioned while someone may be missing',
        location,
      },
      'incomplete',
    );
    return undefined;
  }
  const key = String(keyValue);
  for (const attribute of extraValues) {
    findings.perEntry({
      severity: 'warning',
      code: 'source.multiple-values',
      message: `${name}: ${values.dn}: ${attribute} has several values; the first is used (list it in \`multiValued\` to get them all)`,
      location,
      key,
    });
  }
  return { source: name, key, fields, location };
}

/** Runs paged searches and turns every way they can fall short into findings. */
class PagedReader {
  /** A limit result code was seen: entries came back, but not all of them. */
  limitHit = false;
  /** The connection died or timed out: nothing more can be read on it. */
  connectionLost = false;
  readonly #session: Session;
  readonly #plan: Plan;
  readonly #findings: Findings;
  readonly #name: string;
  readonly #done: SearchDone[] = [];
  readonly #watching: boolean;

  constructor(session: Session, plan: Plan, findings: Findings, name: string) {
    this.#session = session;
    this.#plan = plan;
    this.#findings = findings;
    this.#name = name;
    this.#watching = watchSearchResponses(session.client, (d) => this.#done.push(d));
  }

  /**
   * Reads every page of one search. Returns false when the search did not finish; the reason is
   * already a finding.
   */
  async run(
    base: string,
    search: { scope: 'sub' | 'one' | 'base'; filter: string; attributes: string[] },
    onEntry: (entry: Entry) => void,
    what: 'people' | 'groups' | 'group members',
  ): Promise<boolean> {
    let pages = 0;
    let entries = 0;
    const references: string[] = [];
    /**
     * Entries this search read, by DN. A page that brings one again means the server is paging in
     * a loop (a cookie handed back again, S15). The cookie alone proves nothing: Samba and AD
     * hand back one context cookie for every page of a search.
     */
    const seen = new Set<string>();
    let repeatedCookie = false;
    try {
      assertSession(this.#session);
      this.#done.length = 0;
      const pagesIterator = this.#session.client.searchPaginated(base, {
        scope: search.scope,
        filter: search.filter,
        attributes: search.attributes,
        explicitBufferAttributes: binaryAttributeNames(search.attributes),
        // Never `sizeLimit`: ldapts would return a size-limited result as if complete.
        paged: { pageSize: this.#plan.pageSize },
      });
      for await (const page of pagesIterator as AsyncIterable<SearchResult>) {
        pages++;
        if (page.searchEntries.some((e) => seen.has(e.dn))) {
          // The server handed back a page already read: its entries are not used, and leaving
          // the loop stops ldapts before it asks again (however often it would repeat).
          repeatedCookie = true;
          break;
        }
        for (const entry of page.searchEntries) {
          entries++;
          seen.add(entry.dn);
          onEntry(entry);
        }
        references.push(...page.searchReferences);
      }
    } catch (err) {
      const failure = describeFailure(err);
      const lost =
        err instanceof SessionLost ||
        failure.kind === 'connection-lost' ||
        failure.kind === 'timeout';
      const limit = failure.resultCode !== undefined && LIMIT_CODES.has(failure.resultCode);
      if (limit) this.limitHit = true;
      if (lost) this.connectionLost = true;
      const progress = `after ${pages} page(s) and ${entries} entries`;
      this.#findings.add(
        {
          severity: 'error',
          code: limit ? 'source.limit' : lost ? 'source.connection-lost' : 'source.search',
          message:
            `${this.#name}: the search for ${what} under ${base} stopped ${progress}: ${failure.text}` +
            (limit
              ? '; the server returned only part of the result, so the source is incomplete however many entries came back (raise the limit for the bind account, or narrow baseDn/filter)'
              : ''),
          location: { dn: base },
        },
        // Some entries may be missing. Whether anything at all is trustworthy is decided by the
        // caller, which knows whether other searches brought entries back.
        'incomplete',
      );
      this.#noteReferences(base, references);
      return false;
    }
    if (repeatedCookie) {
      this.#findings.add(
        {
          severity: 'error',
          code: 'source.paging-cookie',
          message: `${this.#name}: the search for ${what} under ${base} got back a page of entries it had already read (page ${pages}, after ${entries} entries): the server is paging in a loop (a paging cookie handed back again), so the read stopped there and the source is incomplete`,
          location: { dn: base },
        },
        'incomplete',
      );
      this.#noteReferences(base, references);
      return false;
    }
    const last = this.#done.at(-1);
    if (this.#watching && last !== undefined && !last.pagedControl) {
      // Cautious rule (S14): the server did not answer the paged-results control, so nothing says
      // this response is the end rather than a server-side limit (AD's MaxPageSize, a size limit
      // reported as success): a directory that cannot page cannot be shown whole.
      this.#findings.add(
        {
          severity: 'error',
          code: 'source.paging-ignored',
          message: `${this.#name}: the search for ${what} under ${base} ended (${entries} entries in ${pages} page(s)) without a paged-results control in the server's final response: the server ignored paging, so nothing shows the ${entries} entries are all of them; the source is incomplete (the directory must support RFC 2696 paged results)`,
          location: { dn: base },
        },
        'incomplete',
      );
    }
    if (this.#watching) {
      const stalled = this.#done.find(
        (d) => d.status === 0 && d.cookieLength > 0 && d.entries === 0 && d.references === 0,
      );
      if (stalled) {
        this.#findings.add(
          {
            severity: 'error',
            code: 'source.paging',
            message: `${this.#name}: the search for ${what} under ${base} got an empty page that says more results follow (after ${entries} entries); the client stops paging there, so the source is incomplete`,
            location: { dn: base },
          },
          'incomplete',
        );
      }
    }
    this.#noteReferences(base, references);
    return true;
  }

  #noteReferences(base: string, uris: readonly string[]): void {
    const foreign = uris.filter((uri) => !this.#isOwnPartition(uri));
    if (foreign.length === 0) return;
    const unique = [...new Set(foreign)];
    const list =
      unique.slice(0, 10).join(', ') +
      (unique.length > 10 ? `, and ${unique.length - 10} more` : '');
    if (this.#plan.referrals === 'ignore') {
      this.#findings.add({
        severity: 'warning',
        code: 'source.referral',
        message: `${this.#name}: the search under ${base} returned ${unique.length} referral(s), ignored (referrals: ignore): ${list}`,
        location: { dn: base },
      });
      return;
    }
    this.#findings.add(
      {
        severity: 'error',
        code: 'source.referral',
        message:
          `${this.#name}: the search under ${base} returned ${unique.length} referral(s) to entries held elsewhere, which are not followed: ${list}; ` +
          'people there may be missing, so the source is incomplete (point baseDn at the server that holds them, or set referrals: ignore)',
        location: { dn: base },
      },
      'incomplete',
    );
  }

  /** A reference to another naming context of this same AD DC (Configuration, DNS zones...). */
  #isOwnPartition(uri: string): boolean {
    const root = this.#session.rootDse;
    if (!root?.activeDirectory) return false;
    const dn = referenceDn(uri);
    if (dn === undefined) return false;
    const target = normalizeDn(dn);
    if (
      root.defaultNamingContext !== undefined &&
      normalizeDn(root.defaultNamingContext) === target
    ) {
      return false;
    }
    return root.namingContexts.some((nc) => normalizeDn(nc) === target);
  }
}

/** The DN of an LDAP URL (`ldaps://host/CN=Configuration,DC=x?...`), percent-decoded. */
function referenceDn(uri: string): string | undefined {
  const m = /^ldaps?:\/\/[^/]*\/([^?]*)/i.exec(uri);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1] ?? '');
  } catch {
    return undefined;
  }
}

async function readGroupsSafely(
  session: Session,
  plan: Plan,
  options: LdapSourceOptions,
  directory: 'ad' | 'ldap',
  personFilter: string,
  reader: PagedReader,
  findings: Findings,
  name: string,
): Promise<Membership | undefined> {
  const g = options.groups;
  if (!g) return undefined;
  const expand =
    g.expand === undefined || g.expand === 'auto'
      ? directory === 'ad'
        ? 'in-chain'
        : 'walk'
      : g.expand;
  const bases =
    g.baseDn === undefined ? plan.bases : typeof g.baseDn === 'string' ? [g.baseDn] : g.baseDn;
  const settings: GroupSettings = {
    bases,
    filter: g.filter ?? (directory === 'ad' ? AD_GROUP_FILTER : LDAP_GROUP_FILTER),
    nested: g.nested ?? true,
    expand,
    rangedMembers: directory === 'ad',
    rangeSize: DEFAULT_RANGE_SIZE,
  };
  const people: PersonSearch = { bases: plan.bases, scope: plan.scope, filter: personFilter };
  let unfinished = false;
  const search = async (
    base: string,
    o: { scope: 'sub' | 'one' | 'base'; filter: string; attributes: string[] },
    onEntry: (entry: Entry) => void,
  ): Promise<void> => {
    const ok = await reader.run(
      base,
      o,
      onEntry,
      o.attributes.includes('1.1') ? 'group members' : 'groups',
    );
    if (!ok) unfinished = true;
  };
  try {
    const membership = await readMembership(session.client, search, settings, people);
    if (unfinished) findings.worsen('incomplete');
    return membership;
  } catch (err) {
    findings.add(
      {
        severity: 'error',
        code: 'source.groups',
        message: `${name}: group memberships could not be read completely (${describeFailure(err).text}); the source is incomplete`,
      },
      'incomplete',
    );
    return undefined;
  }
}

/**
 * Zero entries with success. Whether that is a problem depends on what the tenant holds, which
 * the engine knows (S1, S4); this says what the directory showed, to make the cause findable.
 */
async function reportEmpty(
  session: Session,
  plan: Plan,
  filter: string,
  findings: Findings,
  name: string,
): Promise<void> {
  const invisible: string[] = [];
  for (const base of plan.bases) {
    try {
      assertSession(session);
      const r = await session.client.search(base, {
        scope: 'base',
        filter: '(objectClass=*)',
        attributes: ['1.1'],
      });
      if (r.searchEntries.length === 0) invisible.push(base);
    } catch {
      invisible.push(base);
    }
  }
  findings.add({
    severity: 'warning',
    code: 'source.empty',
    message:
      `${name}: the directory answered success with no entries under ${plan.bases.join('; ')} for ${filter}. ` +
      `If people are expected here, the bind account may lack read access` +
      (invisible.length > 0
        ? ` (the bind account cannot even see the base entry ${invisible.join('; ')})`
        : ' (it can see the base entry, but no entry below it matches)') +
      ', or baseDn or filter is wrong',
    ...(plan.bases[0] !== undefined && { location: { dn: plan.bases[0] } }),
  });
}

function describeConnectError(
  err: ConnectError,
  connection: ConnectionSettings,
): { code: string; message: string } {
  const failure = describeFailure(err.failure);
  const where = connection.url;
  if (err.step === 'starttls') {
    return {
      code: 'source.tls',
      message:
        failure.kind === 'ldap'
          ? `${where} refused StartTLS (${failure.text}); not falling back to cleartext, nothing was sent`
          : `StartTLS with ${where} failed: ${failure.text}; nothing was sent`,
    };
  }
  if (failure.kind === 'tls') {
    return {
      code: 'source.tls',
      message: `cannot establish a trusted TLS connection to ${where}: ${failure.text}; the bind was not attempted (check caFile and tlsServerName)`,
    };
  }
  if (
    failure.kind === 'network' ||
    failure.kind === 'timeout' ||
    failure.kind === 'connection-lost'
  ) {
    return { code: 'source.connect', message: `cannot connect to ${where}: ${failure.text}` };
  }
  if (err.step === 'bind') {
    return {
      code: 'source.bind',
      message: `bind as ${JSON.stringify(connection.bindDn)} to ${where} failed: ${failure.text}`,
    };
  }
  return { code: 'source.connect', message: `${err.step} with ${where} failed: ${failure.text}` };
}

type Planned =
  | { readonly ok: true; readonly plan: Plan }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** Checks the options and decides the transport; nothing is connected yet. */
async function planRead(options: LdapSourceOptions, baseDir: string): Promise<Planned> {
  const bad = (message: string): Planned => ({ ok: false, code: 'source.options', message });
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    return bad(`url ${JSON.stringify(options.url)} is not a URL`);
  }
  const scheme = url.protocol.toLowerCase();
  if (scheme !== 'ldap:' && scheme !== 'ldaps:') {
    return bad(`url ${JSON.stringify(options.url)} must start with ldaps:// or ldap://`);
  }
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    return bad(
      `url ${JSON.stringify(options.url)} must name only a host and port; put the base DN in baseDn`,
    );
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let transport: Transport;
  if (scheme === 'ldaps:') transport = 'ldaps';
  else if (options.startTls ?? true) transport = 'starttls';
  else if (options.allowInsecure === true) transport = 'cleartext';
  else {
    return {
      ok: false,
      code: 'source.insecure',
      message:
        `refusing to read ${options.url} without TLS: ` +
        (options.bindDn !== undefined ? 'the bind password and ' : '') +
        'every record would cross the network in cleartext. Use ldaps://, or ldap:// with StartTLS (startTls: true, the default), or set allowInsecure: true to accept that',
    };
  }
  if (options.bindDn !== undefined && options.password === undefined) {
    return bad('bindDn is set but password is not; give password as ${env:NAME} or ${file:path}');
  }
  if (options.password !== undefined && options.bindDn === undefined) {
    return bad('password is set but bindDn is not: whom should it bind as?');
  }
  const bases = typeof options.baseDn === 'string' ? [options.baseDn] : [...options.baseDn];
  const groupBases =
    options.groups?.baseDn === undefined
      ? []
      : typeof options.groups.baseDn === 'string'
        ? [options.groups.baseDn]
        : options.groups.baseDn;
  for (const dn of [...bases, ...groupBases]) {
    try {
      parseDn(dn);
    } catch (err) {
      return bad(`base DN ${JSON.stringify(dn)} is not a DN: ${(err as Error).message}`);
    }
  }
  for (const [what, filter] of [
    ['filter', options.filter],
    ['groups.filter', options.groups?.filter],
  ] as const) {
    if (filter === undefined) continue;
    try {
      FilterParser.parseString(filter);
    } catch (err) {
      return bad(
        `${what} ${JSON.stringify(filter)} is not an LDAP filter: ${(err as Error).message}`,
      );
    }
  }
  let ca: Buffer | undefined;
  if (options.caFile !== undefined) {
    const path = resolve(baseDir, options.caFile);
    try {
      ca = await readFile(path);
    } catch (err) {
      return bad(
        `cannot read caFile ${options.caFile} (${path}): ${(err as NodeJS.ErrnoException).code ?? 'read error'}`,
      );
    }
    if (!ca.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) {
      return bad(`caFile ${options.caFile} holds no PEM certificate`);
    }
  }
  const requested = options.attributes ?? DEFAULT_ATTRIBUTES;
  const attributes = [...requested];
  if (!attributes.some((a) => a.toLowerCase() === options.key.toLowerCase()))
    attributes.push(options.key);
  const multiValued = new Set(
    (options.multiValued ?? DEFAULT_MULTI_VALUED).map((a) => a.toLowerCase()),
  );
  if (multiValued.has(options.key.toLowerCase())) {
    return bad(`key ${JSON.stringify(options.key)} cannot be multi-valued: a person needs one key`);
  }
  return {
    ok: true,
    plan: {
      connection: {
        url: `${scheme}//${url.host}`,
        host,
        transport,
        ...(ca && { ca }),
        ...(options.tlsServerName !== undefined && { tlsServerName: options.tlsServerName }),
        ...(options.bindDn !== undefined && { bindDn: options.bindDn }),
        timeoutMs: (options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
        connectTimeoutMs: (options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS) * 1000,
      },
      bases,
      scope: options.scope ?? 'sub',
      filter: options.filter,
      fieldPlan: { attributes, multiValued },
      key: options.key,
      pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
      referrals: options.referrals ?? 'incomplete',
      directory: options.directory ?? 'auto',
    },
  };
}

export type { RootDse };
