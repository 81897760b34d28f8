/**
 * A seeded chaos campaign against apply (issue 18), shared by the test suite
 * (test/chaos/chaos.test.ts, a few dozen seeds) and the benchmark (`npm run bench -- chaos`).
 *
 * Each seed draws a fault plan in the simulator's own language (simulator/fault-plan.ts) from
 * the fault kinds the simulator models: lost responses after commit on every kind of write
 * (504 or reset), 5xx, 429s and 429 storms with Retry-After up to 300 s, 401s with revoked
 * tokens, failed or repeated tenant pages, inner `$batch` faults, latency and replication lag.
 * The workload (workload.ts) is then planned and applied against a fresh copy of the prepared
 * tenant, as the CLI does (plan, then apply, which re-reads the tenant first); a run that does
 * not finish is followed by another (at most three), as an operator or the daemon would.
 *
 * After each seed: no duplicate user or group; no account outside the plan's intent disabled
 * or deleted at any moment (every committed write is watched in the simulator's store); the
 * end state equal to the fault-free run's (sessions revoked included); no secret in any output;
 * a failed tenant read that wrote nothing. A failing seed's message carries its fault plan.
 */
import type { FaultPlan, FaultRule, RunningSimulator, TenantStore } from '../../simulator/index.js';
import { createRandomSource } from '../../simulator/random.js';
import type { Random } from '../../simulator/random.js';
import { loadConfig } from '../../config/load.js';
import {
  TenantReadError,
  applyRun,
  planRun,
  renderPlanJson,
  renderPlanText,
  renderReportJson,
  renderReportText,
} from '../../engine/index.js';
import type { Plan } from '../../engine/model/plan.js';
import type { RunReport } from '../../engine/model/report.js';
import type { Workload } from './workload.js';
import { connect } from '../helpers/connect.js';
import { startChaosSimulator } from './workload.js';

const WRITE_TARGETS: { method: string; path: string }[] = [
  { method: 'POST', path: '^/users$' },
  { method: 'PATCH', path: '^/users/[^/]+$' },
  { method: 'DELETE', path: '^/users/[^/]+$' },
  { method: 'POST', path: '/assignLicense$' },
  { method: 'POST', path: '/revokeSignInSessions$' },
  { method: 'PUT', path: '/manager/\\$ref$' },
  { method: 'PATCH', path: '^/groups' },
  { method: 'DELETE', path: '/members/[^/]+/\\$ref$' },
  { method: 'POST', path: '/members/\\$ref$' },
];

function writeMatch(r: Random): NonNullable<FaultRule['match']> {
  if (r.chance(0.3)) return { method: ['POST', 'PATCH', 'PUT', 'DELETE'] };
  const t = r.pick(WRITE_TARGETS);
  return { method: t.method, path: t.path };
}

function when(r: Random): NonNullable<FaultRule['when']> {
  if (r.chance(0.5)) {
    const n = r.int(1, 3);
    return { nth: Array.from({ length: n }, () => r.int(1, 12)).sort((a, b) => a - b) };
  }
  return { probability: r.pick([0.05, 0.1, 0.2, 0.3]), times: r.int(1, 8) };
}

/** One fault rule of a kind the simulator models. */
function drawRule(r: Random): FaultRule {
  switch (r.int(0, 9)) {
    case 0:
    case 1:
      return {
        kind: 'lost-response',
        mode: r.pick(['gateway-timeout', 'reset'] as const),
        match: writeMatch(r),
        when: when(r),
      };
    case 2:
      return {
        kind: 'status',
        status: r.pick([500, 502, 503, 504]),
        match: writeMatch(r),
        when: when(r),
      };
    case 3:
      return {
        kind: 'throttle',
        retryAfterSeconds: r.pick([1, 5, 30, 120, 300]),
        match: writeMatch(r),
        when: when(r),
      };
    case 4: // a 429 storm
      return {
        kind: 'throttle',
        retryAfterSeconds: r.int(1, 60),
        when: { from: r.int(1, 40), times: r.int(3, 10) },
      };
    case 5:
      return { kind: 'unauthorized', revokeTokens: r.chance(0.5), when: { nth: [r.int(1, 60)] } };
    case 6:
      return {
        kind: 'page',
        page: 1,
        mode: r.pick(['fail', 'repeat'] as const),
        match: { path: r.pick(['^/users$', '^/groups$']) },
        when: { nth: [r.int(1, 3)] },
      };
    case 7:
      return {
        kind: 'batch-item',
        status: r.pick([429, 429, 500, 503, 504, 401]),
        ...(r.chance(0.7) ? { retryAfterSeconds: r.pick([1, 10, 45, 300]) } : {}),
        when: when(r),
      };
    case 8:
      return { kind: 'latency', ms: r.int(0, 2000), jitterMs: r.int(0, 3000) };
    default:
      return {
        kind: 'replication-lag',
        ms: r.pick([1000, 5000, 20_000]),
        match: { method: 'POST' },
      };
  }
}

/** The fault plan of `seed`: one to four rules, reproducible from the seed alone. */
export function drawFaultPlan(seed: number): FaultPlan {
  const r = createRandomSource(seed).stream(1000);
  const faults = Array.from({ length: r.int(1, 4) }, () => drawRule(r));
  return { seed, faults };
}

/** Every committed write the simulator's store makes, as the campaign watches them. */
export interface WriteWatch {
  writes: number;
  readonly disabled: Set<string>;
  readonly deleted: Set<string>;
}

const STORE_WRITES = [
  'insertUser',
  'replaceUser',
  'insertObject',
  'updateObject',
  'softDelete',
  'restore',
  'purge',
  'addLinks',
  'removeLink',
  'setManager',
  'assignLicenses',
  'assignGroupLicenses',
] as const;

export function watchStore(store: TenantStore): WriteWatch {
  const watch: WriteWatch = { writes: 0, disabled: new Set(), deleted: new Set() };
  const s = store as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of STORE_WRITES) {
    const original = s[name]!.bind(store);
    s[name] = (...args: unknown[]) => {
      const result = original(...args);
      watch.writes += 1;
      if (name === 'updateObject' || name === 'replaceUser') {
        const doc = (name === 'updateObject' ? args[1] : args[0]) as Record<string, unknown>;
        const changed = name === 'updateObject' ? (args[2] as string[]) : ['accountEnabled'];
        if (changed.includes('accountEnabled') && doc['accountEnabled'] === false) {
          watch.disabled.add(String(doc['id']).toLowerCase());
        }
      }
      if (name === 'softDelete' || name === 'purge')
        watch.deleted.add(String(args[0]).toLowerCase());
      return result;
    };
  }
  return watch;
}

/** Properties Graph generates per object (ids, times, SIDs): not compared. */
const GENERATED = new Set(['id', 'deletedDateTime', 'createdDateTime', 'securityIdentifier']);

/** The tenant as the campaign compares it: no ids, no times, references by name. */
export function tenantImage(
  store: TenantStore,
  sessionsBefore: ReadonlyMap<string, unknown>,
): string[] {
  const names = new Map<string, string>();
  const users = store.queryObjects({ kind: 'user', state: 'active', afterSeq: 0, limit: 10_000 });
  const deleted = store.queryObjects({
    kind: 'user',
    state: 'deleted',
    afterSeq: 0,
    limit: 10_000,
  });
  const groups = store.queryObjects({ kind: 'group', state: 'active', afterSeq: 0, limit: 10_000 });
  for (const o of [...users, ...deleted])
    names.set(String(o.doc['id']), `user:${String(o.doc['userPrincipalName'])}`);
  for (const o of groups) {
    names.set(String(o.doc['id']), `group:${String(o.doc['uniqueName'] ?? o.doc['displayName'])}`);
  }
  const norm = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (names.has(value)) return names.get(value);
      if (/^\d{4}-\d\d-\d\dT/.test(value)) return '<time>';
      return value;
    }
    if (Array.isArray(value))
      return value
        .map((v) => norm(v))
        .map((v) => JSON.stringify(v))
        .sort();
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .filter(([k]) => !GENERATED.has(k))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, norm(v)]),
      );
    }
    return value;
  };
  const lines: string[] = [];
  for (const o of users) {
    const id = String(o.doc['id']);
    const manager = store.getManagerId(id);
    const sessions = o.doc['signInSessionsValidFromDateTime'];
    const revoked = sessions !== undefined && sessions !== sessionsBefore.get(id);
    lines.push(
      JSON.stringify([
        names.get(id),
        norm(o.doc),
        revoked ? 'sessions revoked' : 'sessions kept',
        manager === undefined ? null : (names.get(manager) ?? manager),
      ]),
    );
  }
  for (const o of deleted) lines.push(`deleted ${names.get(String(o.doc['id'])) ?? ''}`);
  for (const o of groups) {
    const id = String(o.doc['id']);
    const members = store
      .pageLinks('member', id, 0, 10_000)
      .map((l) => names.get(l.targetId) ?? l.targetId)
      .sort();
    lines.push(JSON.stringify([names.get(id), norm(o.doc), members]));
  }
  return lines.sort();
}

/** Duplicates: two active users with one anchor, or two active groups with one name. */
export function duplicatesIn(store: TenantStore): string[] {
  const seen = new Map<string, number>();
  for (const u of store.listUsers()) {
    if (u.employeeId)
      seen.set(`user ${String(u.employeeId)}`, (seen.get(`user ${String(u.employeeId)}`) ?? 0) + 1);
  }
  for (const g of store.queryObjects({
    kind: 'group',
    state: 'active',
    afterSeq: 0,
    limit: 10_000,
  })) {
    const key = `group ${String(g.doc['displayName'])}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`);
}

export interface SeedOutcome {
  readonly seed: number;
  readonly faultPlan: FaultPlan | undefined;
  /** Applies run until the plan was empty (1 = converged in one apply). */
  readonly applies: number;
  readonly converged: boolean;
  readonly duplicates: string[];
  readonly wrongful: string[];
  readonly leaks: string[];
  /** A failed tenant read after which writes were committed. */
  readonly readFailureWrites: number;
  readonly image: string[];
  /** Why the first apply did not finish (for the figures). */
  readonly firstRun: string;
  /** Each run in a line: what did not apply, or why it stopped. */
  readonly runs: string[];
  /** The fault-free plan's intended disables and deletes (object ids). */
  readonly intent: string[];
}

const MAX_APPLIES = 3;

/**
 * Plans and applies the workload under `faultPlan` (none: the fault-free reference) until a
 * plan is empty or MAX_APPLIES applies ran. `intent` are the ids the plan may disable or delete
 * (from the reference run; the reference itself derives them from its first plan).
 */
export async function runSeed(
  workload: Workload,
  seed: number,
  faultPlan: FaultPlan | undefined,
  intent?: ReadonlySet<string>,
  options: {
    /** `replan` (default): converged when a fresh plan is empty; `report`: when an apply
     * applied every change (the end state is compared anyway); saves a tenant read. */
    readonly verify?: 'replan' | 'report';
    readonly timeBudgetMs?: number;
  } = {},
): Promise<SeedOutcome> {
  const timeBudgetMs = options.timeBudgetMs ?? 30 * 60_000;
  const { sim, clock } = await startChaosSimulator(workload, `seed-${seed}`, faultPlan);
  try {
    const watch = watchStore(sim.store);
    const loaded = workload.loaded ?? (await loadConfig(workload.configPath));
    const outputs: string[] = [];
    let secret = '';
    let applies = 0;
    let converged = false;
    let readFailureWrites = 0;
    let firstRun = 'finished';
    const runs: string[] = [];
    let allowed = intent;
    const sessionsBefore = new Map(
      sim.store.listUsers().map((u) => [String(u.id), u['signInSessionsValidFromDateTime']]),
    );
    for (let run = 0; run <= MAX_APPLIES; run++) {
      // A fresh process each run: new credential, pacer and caches.
      const io = connect(loaded, sim, clock, undefined, { timeBudgetMs });
      secret = io.secret;
      const before = watch.writes;
      let plan: Plan;
      try {
        plan = await planRun(
          loaded.spec,
          { sources: io.sources, target: io.target.reader },
          { now: clock.now() },
        );
      } catch (err) {
        outputs.push(String(err instanceof Error ? err.message : err));
        if (!(err instanceof TenantReadError)) throw err;
        readFailureWrites += watch.writes - before;
        runs.push(`plan: ${String(err.message)}`);
        if (run === 0) firstRun = 'plan read failed';
        applies += 1;
        continue;
      }
      outputs.push(renderPlanText(plan), renderPlanJson(plan));
      allowed ??= new Set(
        plan.changes
          .filter((c) => c.kind === 'disableUser' || c.kind === 'deleteUser')
          .map((c) => ('user' in c && c.user.id ? c.user.id.toLowerCase() : '')),
      );
      if (plan.changes.length === 0) {
        converged = true;
        break;
      }
      if (run === MAX_APPLIES) break;
      applies += 1;
      let report: RunReport;
      try {
        report = await applyRun(plan, loaded.spec, {
          target: io.target.reader,
          writer: io.target.writer,
        });
      } catch (err) {
        outputs.push(String(err instanceof Error ? err.message : err));
        if (!(err instanceof TenantReadError)) throw err;
        readFailureWrites += watch.writes - before;
        runs.push(`apply: ${String(err.message)}`);
        if (run === 0) firstRun = 'apply re-read failed';
        continue;
      }
      outputs.push(renderReportText(report), renderReportJson(report));
      const unfinished = report.ops.filter((o) => o.outcome !== 'applied');
      if (options.verify === 'report' && unfinished.length === 0 && !report.stopped) {
        converged = true;
        break;
      }
      runs.push(
        `apply ${run + 1}: ${plan.changes.length} change(s)${report.stopped ? `, stopped ${report.stopped.code}: ${report.stopped.message}` : ''}; not applied: ${unfinished
          .slice(0, 5)
          .map(
            (o) =>
              `${o.outcome} ${o.changeId} ${o.error ? `${o.error.status ?? ''} ${o.error.code} ${o.error.class ?? ''} ${o.error.message}` : (o.note ?? '')}`,
          )
          .join(' | ')}`,
      );
      if (run === 0) {
        const failed = report.ops.filter((o) => o.outcome !== 'applied');
        if (report.stopped) firstRun = `stopped: ${report.stopped.code}`;
        else if (failed.length > 0) {
          const first = failed[0]!;
          firstRun = `${first.outcome} ${first.changeId}: ${first.error?.status ?? ''} ${first.error?.class ?? first.note ?? ''}`;
        }
      }
    }
    const intentIds = [...(allowed ?? [])];
    const wrongful = wrongfulIn(watch, allowed, sim);
    const leaks = leaksIn(outputs.join('\n'), secret);
    return {
      seed,
      faultPlan,
      applies,
      converged,
      duplicates: duplicatesIn(sim.store),
      wrongful,
      leaks,
      readFailureWrites,
      image: tenantImage(sim.store, sessionsBefore),
      firstRun,
      runs,
      intent: intentIds,
    };
  } finally {
    await sim.close();
  }
}

/** Accounts disabled or deleted at any moment that the plan's intent did not name. */
export function wrongfulIn(
  watch: WriteWatch,
  allowed: ReadonlySet<string> | undefined,
  sim: RunningSimulator,
): string[] {
  return [
    ...[...watch.disabled]
      .filter((id) => !allowed?.has(id))
      .map((id) => `disabled ${nameOf(sim, id)}`),
    ...[...watch.deleted]
      .filter((id) => !allowed?.has(id))
      .map((id) => `deleted ${nameOf(sim, id)}`),
  ];
}

/** Secrets found in what a run printed: the client secret, an access token, a password. */
export function leaksIn(text: string, secret: string): string[] {
  return [
    ...(secret !== '' && text.includes(secret) ? ['client secret'] : []),
    ...(/eyJ[\w-]+\.eyJ[\w-]+/.test(text) ? ['access token'] : []),
    ...(/passwordProfile|"password"/i.test(text) ? ['password'] : []),
  ];
}

function nameOf(sim: RunningSimulator, id: string): string {
  const o = sim.store.getObject(id);
  return String(o?.doc['userPrincipalName'] ?? o?.doc['displayName'] ?? id);
}

const ACCEPTED_SECOND_RUN = /^(plan read failed|apply re-read failed|stopped: time-budget)$/;

/** What is wrong with a seed's outcome against the reference, one line each; none: passed. */
export function problemsOf(outcome: SeedOutcome, reference: SeedOutcome): string[] {
  const problems: string[] = [];
  if (outcome.duplicates.length > 0) problems.push(`duplicates: ${outcome.duplicates.join(', ')}`);
  if (outcome.wrongful.length > 0)
    problems.push(`wrongful deprovisions: ${outcome.wrongful.join(', ')}`);
  if (outcome.leaks.length > 0) problems.push(`leaks: ${outcome.leaks.join(', ')}`);
  if (outcome.readFailureWrites > 0) {
    problems.push(`a failed tenant read was followed by ${outcome.readFailureWrites} write(s)`);
  }
  if (!outcome.converged) problems.push(`not converged after ${outcome.applies} applies`);
  // One apply converges unless a tenant read failed (it writes nothing) or the fault outlasted
  // the run's time budget.
  if (outcome.applies > 1 && !ACCEPTED_SECOND_RUN.test(outcome.firstRun)) {
    problems.push(`the first apply did not finish: ${outcome.firstRun}`);
  }
  const differs = imageDifference(outcome.image, reference.image);
  if (differs) problems.push(differs);
  return problems;
}

/** `state differs: …` naming the first lines each side lacks; undefined when equal. */
export function imageDifference(
  image: readonly string[],
  reference: readonly string[],
): string | undefined {
  const mine = new Set(image);
  const theirs = new Set(reference);
  const missing = reference.filter((l) => !mine.has(l));
  const extra = image.filter((l) => !theirs.has(l));
  if (missing.length === 0 && extra.length === 0) return undefined;
  return `state differs: expected ${missing.slice(0, 3).join(' | ')}; got ${extra.slice(0, 3).join(' | ')}`;
}

/** The failure message of a seed: its problems and the fault plan that replays it. */
export function describeFailure(outcome: SeedOutcome, problems: readonly string[]): string {
  return `seed ${outcome.seed}: ${problems.join('; ')}\n${outcome.runs.join('\n')}\nreplay with this fault plan:\n${JSON.stringify(outcome.faultPlan, null, 2)}`;
}

export interface CampaignFigures {
  seeds: number;
  duplicates: number;
  wrongful: number;
  mismatches: number;
  leaks: number;
  secondRun: number;
  readFailureWrites: number;
  notConverged: number;
  /** Why first applies did not finish, by reason. */
  firstRunReasons: Map<string, number>;
}

export function emptyFigures(): CampaignFigures {
  return {
    seeds: 0,
    duplicates: 0,
    wrongful: 0,
    mismatches: 0,
    leaks: 0,
    secondRun: 0,
    readFailureWrites: 0,
    notConverged: 0,
    firstRunReasons: new Map(),
  };
}

export function addOutcome(
  f: CampaignFigures,
  outcome: SeedOutcome,
  reference: SeedOutcome,
): string[] {
  const problems = problemsOf(outcome, reference);
  f.seeds += 1;
  if (outcome.duplicates.length > 0) f.duplicates += 1;
  if (outcome.wrongful.length > 0) f.wrongful += 1;
  if (outcome.leaks.length > 0) f.leaks += 1;
  if (outcome.readFailureWrites > 0) f.readFailureWrites += 1;
  if (!outcome.converged) f.notConverged += 1;
  if (problems.some((p) => p.startsWith('state differs'))) f.mismatches += 1;
  if (outcome.applies > 1) {
    f.secondRun += 1;
    const reason = outcome.firstRun.replace(/ [a-zA-Z]+:[^\s]+/, ' <change>');
    f.firstRunReasons.set(reason, (f.firstRunReasons.get(reason) ?? 0) + 1);
  }
  return problems;
}

export function figuresLine(f: CampaignFigures): string {
  return `${f.seeds} seeds: ${f.duplicates} duplicates, ${f.wrongful} wrongful deprovisions, ${f.mismatches} state mismatches, ${f.leaks} leaks, ${f.secondRun} applies that needed a second run`;
}
