/**
 * The engine's public surface: plan and apply over ports, plus the pure pieces they are made of.
 *
 *   planRun:  sources --read--> snapshots; target --read--> tenant; computePlan (pure)
 *   applyRun: checks the saved plan still fits the live tenant, then applies it change by change
 */
import { SafetyBlockedError, SourceFailedError, StalePlanError } from './errors.js';
import type { Plan } from './model/plan.js';
import { PLAN_FORMAT_VERSION, hasFailedSource } from './model/plan.js';
import type { RunReport } from './model/report.js';
import type { SourceSnapshot } from './model/source.js';
import type { SyncSpec } from './model/spec.js';
import type { TenantState } from './model/tenant.js';
import type { SourceConnector, TargetReader, TargetWriter } from './ports.js';
import type { ApplyOptions } from './apply/apply.js';
import type { ApplyLock } from './apply/lock.js';
import { applyPlan } from './apply/apply.js';
import { tenantDigest } from './pipeline/fingerprint.js';
import { computePlan, computePlanWithStages, tenantReadRequest } from './pipeline/plan.js';
import { explainPeople } from './pipeline/explain.js';
import type { Explanation } from './pipeline/explain.js';
import type { PlanOptions } from './pipeline/plan.js';
import type { PlanMemo } from './pipeline/reuse.js';
import { planValidUntil, reusablePlan } from './pipeline/reuse.js';

export interface PlanIO {
  readonly sources: readonly SourceConnector[];
  readonly target: TargetReader;
  /**
   * Called once every input is read, before planning. What reading left behind (response
   * texts, parser state) is garbage by then, and the CLI collects it here: at 100,000 people
   * that keeps about 100 MiB off the plan's peak (cli/memory.ts).
   */
  readonly afterRead?: () => void;
}

export interface ApplyIO {
  readonly target: TargetReader;
  readonly writer: TargetWriter;
}

/** Reads every source concurrently. A connector that throws is recorded as a failed source. */
export async function readSources(sources: readonly SourceConnector[]): Promise<SourceSnapshot[]> {
  return Promise.all(
    sources.map(async (source): Promise<SourceSnapshot> => {
      try {
        return await source.read();
      } catch (err) {
        return {
          name: source.name,
          kind: source.kind,
          status: 'failed',
          fields: [],
          records: [],
          issues: [
            {
              severity: 'error',
              code: 'source.read-failed',
              message: `source "${source.name}" failed: ${err instanceof Error ? err.message : String(err)}`,
            },
          ],
        };
      }
    }),
  );
}

export async function readTenant(spec: SyncSpec, target: TargetReader): Promise<TenantState> {
  return target.read(tenantReadRequest(spec));
}

/** The sources and the tenant, read at the same time. */
async function readInputs(spec: SyncSpec, io: PlanIO): Promise<[SourceSnapshot[], TenantState]> {
  const inputs = await Promise.all([readSources(io.sources), readTenant(spec, io.target)]);
  io.afterRead?.();
  return inputs;
}

/** Plans only: `plan` is never given a writer, so it cannot write (invariant 3). */
export async function planRun(
  spec: SyncSpec,
  io: PlanIO,
  options: PlanOptions = {},
): Promise<Plan> {
  const [snapshots, tenant] = await readInputs(spec, io);
  return computePlan(spec, snapshots, tenant, options);
}

/** A plan, the memo to pass to the next call, and whether the memo's plan was reused. */
export interface RepeatedPlan {
  readonly plan: Plan;
  readonly memo: PlanMemo;
  readonly reused: boolean;
}

/**
 * `planRun` for a caller that plans again and again (the daemon): when the connectors hand back
 * the very inputs of the previous plan and its validity has not run out, that plan is returned
 * without computing it again (see pipeline/reuse.ts); otherwise a new one is computed.
 */
export async function planRunRepeated(
  spec: SyncSpec,
  io: PlanIO,
  options: PlanOptions,
  memo: PlanMemo | undefined,
): Promise<RepeatedPlan> {
  const [snapshots, tenant] = await readInputs(spec, io);
  const now = options.now ?? Date.now();
  const previous = reusablePlan(memo, spec, snapshots, tenant, options, now);
  if (previous !== undefined && memo !== undefined) return { plan: previous, memo, reused: true };
  const plan = await computePlan(spec, snapshots, tenant, { ...options, now });
  const validUntil = planValidUntil(spec, tenant, now);
  return { plan, memo: { spec, snapshots, tenant, options, plan, validUntil }, reused: false };
}

/** Plans, then explains the given people from the plan's own stage outputs. */
export async function explainRun(
  spec: SyncSpec,
  io: PlanIO,
  queries: readonly string[],
): Promise<{ plan: Plan; explanations: Explanation[] }> {
  const [snapshots, tenant] = await readInputs(spec, io);
  const { plan, stages } = await computePlanWithStages(spec, snapshots, tenant);
  return { plan, explanations: explainPeople(queries, spec, plan, stages) };
}

export interface ApplyRunOptions extends ApplyOptions {
  /** Tenant state already read for this apply (e.g. by the plan made just before). */
  readonly tenant?: TenantState;
  /**
   * One applier at a time (A3): taken before the tenant is re-read for the stale-plan check,
   * so two appliers cannot both pass it, and released when the run ends.
   */
  readonly lock?: ApplyLock;
  /** Who takes the lock, e.g. `apply` or `daemon`. */
  readonly lockOwner?: string;
  /** Called once the plan is proven current, before the first write (progress output). */
  readonly onVerified?: () => void;
}

/**
 * Applies a plan after proving it still describes the tenant: same plan format, same config,
 * and the accounts it rests on unchanged since it was made (StalePlanError otherwise). A plan
 * with a failed source is refused whole; of a plan with blocked changes only `changes` are
 * applied, the held ones never (issue 20), unless `safety.onBlocked: hold-plan` refuses it whole.
 */
export async function applyRun(
  plan: Plan,
  spec: SyncSpec,
  io: ApplyIO,
  options: ApplyRunOptions = {},
): Promise<RunReport> {
  if (plan.formatVersion !== PLAN_FORMAT_VERSION) {
    throw new StalePlanError(
      `plan format ${String(plan.formatVersion)} is not ${PLAN_FORMAT_VERSION}; plan again`,
    );
  }
  if (plan.configDigest !== spec.configDigest) {
    throw new StalePlanError('the configuration changed since this plan was made; plan again');
  }
  if (hasFailedSource(plan)) {
    const failed = plan.sources.filter((s) => s.status === 'failed').map((s) => s.name);
    throw new SourceFailedError(`source ${failed.join(', ')} failed to read; nothing is applied`);
  }
  if (plan.blocked.length > 0 && spec.safety.onBlocked === 'hold-plan') {
    throw new SafetyBlockedError(
      `${plan.blocked.length} change(s) are blocked by safety checks; nothing is applied (safety.onBlocked: hold-plan; first: ${plan.blocked[0]?.message ?? ''})`,
    );
  }
  const lease = options.lock ? await options.lock.acquire(options.lockOwner ?? 'apply') : undefined;
  try {
    const tenant = options.tenant ?? (await readTenant(spec, io.target));
    // The digest the plan was made with covers its held changes too (plan.ts).
    const live = tenantDigest(tenant, spec.marker, [
      ...plan.changes,
      ...plan.blocked.map((b) => b.change),
    ]);
    if (live !== plan.tenantDigest) {
      throw new StalePlanError(
        'the tenant changed since this plan was made (accounts it manages or targets differ); plan again',
      );
    }
    options.onVerified?.();
    return await applyPlan(plan, io.writer, { configDigest: spec.configDigest, ...options });
  } finally {
    await lease?.release();
  }
}

export { computePlan, tenantReadRequest } from './pipeline/plan.js';
export type { PlanOptions } from './pipeline/plan.js';
export type { PlanMemo } from './pipeline/reuse.js';
export { applyPlan } from './apply/apply.js';
export type { ApplyOptions } from './apply/apply.js';
export type { BreakerSettings } from './apply/breaker.js';
export type {
  Journal,
  JournalEntry,
  JournalRun,
  JournaledChange,
  ResumeState,
  RunStatus,
} from './apply/journal.js';
export { foldResume } from './apply/journal.js';
export type { ApplyLock, LockHolder, LockLease } from './apply/lock.js';
export { LockHeldError, describeHolder } from './apply/lock.js';
export { renderPlanText, renderReportText, summaryLine } from './render/text.js';
export { releaseLine } from './render/held.js';
export { renderPlanJson, renderReportJson } from './render/json.js';
export { renderExplanationsText } from './render/explain.js';
export {
  renderPlanMarkdown,
  MARKDOWN_COMMENT_MARKER,
  DEFAULT_MARKDOWN_BUDGET,
} from './render/markdown.js';
export type { MarkdownOptions } from './render/markdown.js';
export { renderPlanHtml } from './render/html.js';
export { escapeHtml } from './render/html-page.js';
export type { Explanation } from './pipeline/explain.js';
export * from './errors.js';
export type * from './model/plan.js';
export { PLAN_FORMAT_VERSION, isEmptyPlan, hasFailedSource } from './model/plan.js';
export type * from './model/report.js';
export { countOutcomes } from './model/report.js';
