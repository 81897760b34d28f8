/**
 * `apply [plan.json]`: with a saved plan, applies exactly that plan if it still fits the tenant
 * (StalePlanError otherwise); without one, plans now, prints the plan and applies it.
 *
 * Around the engine's applyRun this command adds what needs I/O:
 * - the permission check before anything is planned (X5): the app's roles are read from its
 *   token; a missing permission stops with "missing permission X for action Y", excess
 *   privilege warns (or refuses, `target.excessPrivilege: refuse`);
 * - the journal and lock in `.entrasync/apply.db` beside the config, through the applier the
 *   daemon uses too (cli/apply-runner.ts): one applier at a time (A3; a daemon run holding it
 *   is named), every change recorded before and after its write, and a resume of an
 *   interrupted run of either (A1). Resuming re-plans from the tenant, so it works without the
 *   journal too (a GitOps runner); a saved plan whose run was interrupted is continued only
 *   when what is left of it is exactly what a fresh plan wants (nothing else changed since);
 * - history (cli/history/apply-history.ts): the run, its plan and each change's outcome as it
 *   happens, in the daemon's history file, for `entrasync report`;
 * - progress: a bar with rate and ETA on a terminal, a line every 10 s otherwise; then every
 *   change's outcome, the write figures, and why a run stopped.
 */
import { readPlanFile } from '../plan-file.js';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { ApplyStore } from '../apply-store.js';
import { applyJournaled, openApplyStoreBeside } from '../apply-runner.js';
import { applyWritebacks, hasWritebacks } from '../writeback-apply.js';
import { DEFAULT_FAILURE_RATIO } from '../../config/operations-schema.js';
import { Redactor } from '../../engine/secret.js';
import { historyPathFor, operationsConfig } from '../daemon/run-daemon.js';
import type { Verdict } from '../daemon/run-verdict.js';
import { errorVerdict, heldVerdict, judgeApply, judgePlan } from '../daemon/run-verdict.js';
import type { ApplyHistory } from '../history/apply-history.js';
import { openApplyHistory } from '../history/apply-history.js';
import {
  countOutcomes,
  EntrasyncError,
  hasFailedSource,
  planRun,
  releaseLine,
  renderPlanText,
  renderReportText,
  SafetyBlockedError,
  StalePlanError,
  TenantReadError,
} from '../../engine/index.js';
import type {
  Change,
  OpResult,
  Plan,
  ProtectBaseline,
  RunReport,
  ThresholdOverrides,
} from '../../engine/index.js';
import type { TargetReader } from '../../engine/ports.js';
import type { SyncSpec } from '../../engine/model/spec.js';
import type { EntraAction } from '../../connectors/entra/index.js';
import { actionsOfChange, checkAccess, readGrantedAccess } from '../../connectors/entra/index.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import { paintPlanText, paintReportText } from '../colour.js';
import type { Output } from '../output.js';
import { colorsOf } from '../output.js';
import type { Runtime } from '../runtime.js';
import { planIO } from '../runtime.js';
import { checkSavedPlanBaseline } from '../baseline.js';
import { clockRefused, reportClockRefusal, reportFailedSources } from './plan.js';
import { createProgress } from './progress-eta.js';
import type { Progress } from './progress-eta.js';
import { confirmApply, NO_PROMPT } from '../prompt.js';
import type { Prompt } from '../prompt.js';
import { renderApplyJson } from './apply-json.js';

/** Flags of `apply` beyond the config and the overrides (see `addApplyOptions`). */
export interface ApplyCommandOptions {
  /** Batches of up to 20 writes in flight (default: `target.writes.concurrency`, 4). */
  readonly concurrency?: number;
  /** Stop starting waits after this many seconds; what is left resumes next time (G2). */
  readonly timeBudget?: number;
  /** Remove the apply lock with this id (a holder that is gone) and exit. */
  readonly forceUnlock?: string;
  /** `false` (`--no-journal`): keep no journal or lock (resume then re-plans from the tenant). */
  readonly journal?: boolean;
  /** `false` (`--no-progress`): no progress bar or progress lines. */
  readonly progress?: boolean;
  /**
   * `--baseline`/`--baseline-config` (cli/baseline.ts): the protect list before this change, for
   * the protect-lift check (P2). With a saved plan, the plan's own baseline counts and this one
   * must protect the same entries (StalePlanError otherwise).
   */
  readonly protectBaseline?: ProtectBaseline;
  /**
   * `--auto-approve`: apply a plan made now without asking. Without it, and without a saved
   * plan, `apply` asks on a terminal and refuses anywhere else (cli/prompt.ts).
   */
  readonly autoApprove?: boolean;
  /** Where the question is asked (default: nowhere, as if stdin were not a terminal). */
  readonly prompt?: Prompt;
  /** `--format json`: one JSON result on stdout (apply-json.ts) instead of the text. */
  readonly format?: ApplyFormat;
  /** `--history <file>`: where the run is recorded (default: `history.path` of the config). */
  readonly history?: string;
  /** Scrubs what history records (the CLI's, which knows the config's secrets). */
  readonly redactor?: Redactor;
}

export type ApplyFormat = 'text' | 'json';

/**
 * Adds the flags of ApplyCommandOptions to the `apply` command. In cli/program.ts:
 * `addApplyOptions(addOverrideOptions(program.command('apply')...))`, then pass
 * `applyOptionsFrom(opts)` as runApply's fifth argument.
 */
export function addApplyOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--concurrency <n>', 'batches of up to 20 writes in flight').argParser(
        positiveInteger('--concurrency'),
      ),
    )
    .addOption(
      new Option(
        '--time-budget <seconds>',
        'start no wait past this many seconds (a long Retry-After); the rest resumes on the next apply',
      ).argParser(positiveInteger('--time-budget')),
    )
    .addOption(
      new Option(
        '--force-unlock <lockId>',
        'remove a stale apply lock (the id it printed) and exit',
      ),
    )
    .addOption(new Option('--no-journal', 'keep no journal or lock in .entrasync/apply.db'))
    .addOption(new Option('--no-progress', 'print no progress while applying'))
    .addOption(
      new Option(
        '--history <file>',
        'record the run in this history file, for `entrasync report` (default: history.path of the config, .entrasync/history.db)',
      ),
    )
    .addOption(
      new Option(
        '--auto-approve',
        'apply a plan made now without asking (needed when stdin is not a terminal)',
      ),
    )
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'json'])
        .default('text'),
    );
}

/** commander's parsed flags -> ApplyCommandOptions. */
export function applyOptionsFrom(opts: Record<string, unknown>): ApplyCommandOptions {
  return {
    ...(typeof opts['concurrency'] === 'number' ? { concurrency: opts['concurrency'] } : {}),
    ...(typeof opts['timeBudget'] === 'number' ? { timeBudget: opts['timeBudget'] } : {}),
    ...(typeof opts['forceUnlock'] === 'string' ? { forceUnlock: opts['forceUnlock'] } : {}),
    ...(opts['journal'] === false ? { journal: false } : {}),
    ...(opts['progress'] === false ? { progress: false } : {}),
    ...(opts['autoApprove'] === true ? { autoApprove: true } : {}),
    ...(opts['format'] === 'json' ? { format: 'json' as const } : {}),
    ...(typeof opts['history'] === 'string' ? { history: opts['history'] } : {}),
  };
}

export async function runApply(
  runtime: Runtime,
  planFile: string | undefined,
  output: Output,
  overrides?: ThresholdOverrides,
  options: ApplyCommandOptions = {},
): Promise<ExitCode> {
  checkApprovalPossible(planFile, options);
  const json = options.format === 'json';
  // In JSON mode stdout carries only the result; warnings and errors still go to stderr.
  const text: Output = json ? { out: () => {}, err: (t) => output.err(t) } : output;
  const store =
    options.journal === false ? undefined : openApplyStoreBeside(runtime.loaded.baseDir);
  try {
    if (options.forceUnlock !== undefined) {
      const removed = await requireStore(store).lock.forceUnlock(options.forceUnlock);
      text.out(
        removed
          ? `Removed apply lock ${options.forceUnlock}.\n`
          : `No apply lock with id ${options.forceUnlock}; nothing removed.\n`,
      );
      return removed ? EXIT.ok : EXIT.error;
    }
    const ops = operationsConfig(runtime.loaded.config);
    const history = openApplyHistory({
      path: historyPathFor(runtime.loaded.baseDir, ops, options.history),
      redactor: options.redactor ?? new Redactor(),
      warn: (t) => output.err(t),
      ...(ops.history?.keepDays !== undefined ? { keepDays: ops.history.keepDays } : {}),
    });
    try {
      const failureRatio = ops.daemon?.failureRatio ?? DEFAULT_FAILURE_RATIO;
      const context = { runtime, planFile, output, text, json, store, history, failureRatio };
      const { code, verdict } = await applyCommand(context, overrides, options);
      history.finish(verdict);
      return code;
    } catch (err) {
      history.finish(errorVerdict(err));
      throw err;
    } finally {
      history.close();
    }
  } finally {
    store?.close();
  }
}

/** What one `apply` works with, besides its flags. */
interface ApplyContext {
  readonly runtime: Runtime;
  readonly planFile: string | undefined;
  readonly output: Output;
  /** `output`, or in JSON mode only its stderr. */
  readonly text: Output;
  readonly json: boolean;
  readonly store: ApplyStore | undefined;
  readonly history: ApplyHistory;
  /** The daemon's `failureRatio`, so a report reads the same in history whoever applied it. */
  readonly failureRatio: number;
}

/** How an apply ended: its exit code, and the outcome history records. */
interface ApplyEnd {
  readonly code: ExitCode;
  readonly verdict: Verdict;
}

async function applyCommand(
  context: ApplyContext,
  overrides: ThresholdOverrides | undefined,
  options: ApplyCommandOptions,
): Promise<ApplyEnd> {
  const { runtime, planFile, output, text, json, store, history } = context;
  const spec = runtime.loaded.spec;
  const access = await checkPermissions(runtime, actionsForSpec(spec), text);
  if (access !== undefined) return { code: access, verdict: PERMISSION_MISSING };

  let plan: Plan;
  if (planFile) {
    plan = await readPlanFile(planFile);
    checkSavedPlanBaseline(plan, options.protectBaseline);
    const unfinished = store?.unfinishedRun(spec.configDigest);
    if (unfinished !== undefined && unfinished.planFingerprint === plan.fingerprint) {
      plan = await remainderOf(plan, runtime, text);
    }
  } else {
    plan = await planRun(spec, planIO(runtime), {
      ...(overrides ? { overrides } : {}),
      ...(options.protectBaseline ? { protectBaseline: options.protectBaseline } : {}),
    });
    text.out(paintPlanText(renderPlanText(plan), colorsOf(text)));
    reportFailedSources(plan, text);
    reportClockRefusal(plan, text);
  }
  history.planned(plan);
  const unfinished = store?.unfinishedRun(spec.configDigest);
  // Write-backs alone still go through the applier: the stale-plan check and the lock.
  const writebacks = hasWritebacks(plan);
  if (
    plan.changes.length === 0 &&
    plan.blocked.length === 0 &&
    unfinished === undefined &&
    !writebacks
  ) {
    text.out('Nothing to apply.\n');
    const code = clockRefused(plan) ? EXIT.error : EXIT.ok;
    if (json) output.out(renderApplyJson(plan, undefined, code));
    return { code, verdict: judgePlan(plan, 'apply') ?? { outcome: 'no-changes' } };
  }
  const heldOnly =
    plan.changes.length === 0 && !hasFailedSource(plan) && plan.onBlocked !== 'hold-plan';
  if (heldOnly && unfinished === undefined && !writebacks) {
    text.out(`\nNothing to apply: every change is held.\n${releaseLine(plan) ?? ''}\n`);
    const code = clockRefused(plan) ? EXIT.error : EXIT.blocked;
    if (json) output.out(renderApplyJson(plan, undefined, code));
    return { code, verdict: heldVerdict(plan) };
  }
  if (needsConfirmation(plan, planFile, options)) {
    if (!(await confirmApply(options.prompt ?? NO_PROMPT, plan.changes.length))) {
      text.err('Apply cancelled: nothing was written.\n');
      return { code: EXIT.error, verdict: CANCELLED };
    }
  }
  const foreseen = new Set(actionsForSpec(spec));
  const needed = [...new Set(plan.changes.flatMap((c) => actionsOfChange(c)))];
  if (needed.some((a) => !foreseen.has(a))) {
    const stop = await checkPermissions(runtime, needed, text);
    if (stop !== undefined) return { code: stop, verdict: PERMISSION_MISSING };
  }
  if (unfinished !== undefined) {
    text.out(`\nResuming interrupted run ${unfinished.runId}.\n`);
  }
  return applyAndReport(context, plan, options);
}

/** Applies a plan proven current and says how it went. */
async function applyAndReport(
  context: ApplyContext,
  plan: Plan,
  options: ApplyCommandOptions,
): Promise<ApplyEnd> {
  const { runtime, planFile, output, text, json, store, history } = context;
  // Said once the plan is proven current: a stale plan is refused without "Applying".
  let progress: Progress | undefined;
  const begin = (): void => {
    text.out(`\nApplying ${plan.changes.length} change(s)...\n`);
    if (options.progress !== false) progress = createProgress(text, plan.changes.length);
  };
  let report: RunReport;
  try {
    report = await applyJournaled(
      plan,
      runtime.loaded.spec,
      { target: recheckReader(runtime.target.reader, planFile), writer: runtime.target.writer },
      {
        ...(store ? { store } : {}),
        lockOwner: 'apply',
        history,
        ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
        ...(options.timeBudget === undefined ? {} : { timeBudgetMs: options.timeBudget * 1000 }),
        onVerified: begin,
        onResult: (result: OpResult) => progress?.update(result),
      },
    );
  } catch (err) {
    // A refused plan still gets its JSON result (held changes, exit code); main reports why.
    if (json && err instanceof SafetyBlockedError) {
      output.out(renderApplyJson(plan, undefined, EXIT.blocked));
    }
    throw err;
  } finally {
    progress?.stop();
  }
  text.out(paintReportText(renderReportText(report), colorsOf(text)));
  text.out(renderRunDetails(report));
  const written = report.stopped
    ? undefined
    : await applyWritebacks(plan, runtime.sourceWriter, text);
  const code =
    report.stopped || countOutcomes(report).failed > 0 || clockRefused(plan) || written?.failed
      ? EXIT.error
      : plan.blocked.length > 0 || (plan.writebacks?.blocked.length ?? 0) > 0
        ? EXIT.blocked
        : EXIT.ok;
  if (json) output.out(renderApplyJson(plan, report, code, written?.results));
  if (report.stopped) {
    output.err(
      `\nThe run stopped: ${report.stopped.message}\nRun \`entrasync apply\` again to resume; it re-plans from the tenant, so what was applied is not applied twice.\n`,
    );
  } else if (code === EXIT.blocked) {
    // Last, so it is what a person reads: the rest applied, this did not.
    text.out(`\n${plan.blocked.length} change(s) held, not applied. ${releaseLine(plan) ?? ''}\n`);
  }
  if (written && written.failed > 0) {
    return {
      code,
      verdict: {
        outcome: 'error',
        errorCode: 'writeback.failed',
        reason: `${written.failed} write-back(s) failed`,
      },
    };
  }
  const verdict = judgeApply(plan, report, { failureRatio: context.failureRatio });
  // A plan with nothing to write that only closed an interrupted run's journal changed nothing.
  if (
    plan.changes.length === 0 &&
    !hasWritebacks(plan) &&
    (verdict.outcome === 'applied' || verdict.outcome === 'blocked')
  ) {
    return { code, verdict: judgePlan(plan, 'apply') ?? { outcome: 'no-changes' } };
  }
  return { code, verdict };
}

const PERMISSION_MISSING: Verdict = {
  outcome: 'error',
  errorCode: 'permission.missing',
  reason: 'the app lacks a permission this apply needs (see the errors it printed)',
};

const CANCELLED: Verdict = {
  outcome: 'error',
  errorCode: 'apply.cancelled',
  reason: 'apply cancelled at the prompt: nothing was written',
};

/**
 * The reader for the re-read that checks the plan against the tenant before anything is
 * written (A11). The plan was already made (and, without a plan file, printed), so a failed
 * read says once what happened to it, instead of the planner's "no plan is made".
 */
function recheckReader(reader: TargetReader, planFile: string | undefined): TargetReader {
  return {
    apiVersion: reader.apiVersion,
    async read(request) {
      try {
        return await reader.read(request);
      } catch (err) {
        if (!(err instanceof TenantReadError)) throw err;
        const what = planFile === undefined ? 'the plan above' : `plan ${planFile}`;
        const cause = err.message.replace(/; no plan is made from a partial tenant$/, '');
        throw new TenantReadError(
          `${what} was not applied: re-reading the tenant to check that it still fits failed (${cause}); nothing was written, run apply again`,
        );
      }
    },
  };
}

/**
 * A plan made now is applied only once approved: `--auto-approve`, or `yes` typed on a
 * terminal. Where nobody can answer (not a terminal, or JSON on stdout) the run is refused
 * before anything is read, so a pipeline fails fast instead of waiting. A saved plan was
 * reviewed when it was made, and `--force-unlock` applies nothing: neither is asked about.
 */
export function checkApprovalPossible(
  planFile: string | undefined,
  options: ApplyCommandOptions,
): void {
  if (planFile !== undefined || options.autoApprove || options.forceUnlock !== undefined) return;
  if (options.format === 'json') {
    throw new EntrasyncError(
      'cli.usage',
      'apply --format json without a saved plan needs --auto-approve (nothing can be asked while stdout is JSON)',
    );
  }
  if (!options.prompt?.interactive) {
    throw new EntrasyncError(
      'cli.usage',
      'apply without a saved plan needs --auto-approve when stdin is not a terminal (or apply a plan saved by `plan --out`)',
    );
  }
}

/** Asked only when something would be written: a plan that is refused anyway is not. */
function needsConfirmation(
  plan: Plan,
  planFile: string | undefined,
  options: ApplyCommandOptions,
): boolean {
  if (planFile !== undefined || options.autoApprove) return false;
  // Nothing will be written when a source failed or the whole plan is held (hold-plan).
  const refused =
    (plan.blocked.length > 0 && plan.onBlocked === 'hold-plan') ||
    plan.sources.some((s) => s.status === 'failed');
  return plan.changes.length > 0 && !refused;
}

function requireStore(store: ApplyStore | undefined): ApplyStore {
  if (!store)
    throw new EntrasyncError('cli.usage', '--force-unlock needs the journal (drop --no-journal)');
  return store;
}

/** What a config may plan, as Graph actions: checked before planning (X5). */
export function actionsForSpec(spec: SyncSpec): EntraAction[] {
  const actions: EntraAction[] = ['read users', 'create users', 'update users'];
  if (spec.users.deprovision.action === 'disable' || 'accountEnabled' in spec.users.attributes) {
    actions.push('enable and disable users');
  }
  return actions;
}

/**
 * Reads the app's permissions from its token and reports missing and excess ones. Returns an
 * exit code when the run must stop, undefined to go on.
 */
async function checkPermissions(
  runtime: Runtime,
  actions: readonly EntraAction[],
  output: Output,
): Promise<ExitCode | undefined> {
  const granted = await readGrantedAccess(runtime.target.credential, runtime.connection.graphUrl);
  const findings = checkAccess(granted, [...actions, 'find privileged users']);
  let stop = false;
  for (const finding of findings) {
    if (finding.code === 'permission.missing' && finding.action === 'find privileged users') {
      output.err(
        `warning: ${finding.message}; admins cannot be told apart, so none of them is touched\n`,
      );
      continue;
    }
    if (finding.code === 'permission.missing') {
      output.err(`error: ${finding.message}\n`);
      stop = true;
      continue;
    }
    const refuse = runtime.loaded.config.target.excessPrivilege === 'refuse';
    output.err(`${refuse ? 'error' : 'warning'}: ${finding.message}\n`);
    if (refuse) stop = true;
  }
  return stop ? EXIT.error : undefined;
}

/**
 * What is left of a saved plan whose run was interrupted: a fresh plan, accepted only if every
 * change it would apply is one of the saved plan's, unchanged (what it holds is not applied). Then the reviewed plan is finished and
 * nothing unreviewed slips in; otherwise the saved plan is stale (A2).
 */
async function remainderOf(saved: Plan, runtime: Runtime, output: Output): Promise<Plan> {
  // The saved plan's baseline counts: what was lifted when it was made is still lifted.
  const fresh = await planRun(
    runtime.loaded.spec,
    planIO(runtime),
    saved.protectLift?.ran ? { protectBaseline: saved.protectLift.baseline } : {},
  );
  const reviewed = new Map(saved.changes.map((c) => [c.id, canonical(c)]));
  const unreviewed = fresh.changes.filter((c) => reviewed.get(c.id) !== canonical(c));
  // What the fresh plan holds is never applied, so it cannot slip anything in.
  if (unreviewed.length > 0) {
    throw new StalePlanError(
      `plan ${saved.fingerprint.slice(0, 12)} was interrupted, and the tenant or sources changed since beyond what it applied (${unreviewed.length} change(s) it did not review, e.g. ${unreviewed[0]?.id ?? ''}); plan again`,
    );
  }
  output.out(
    `Plan ${saved.fingerprint.slice(0, 12)} was interrupted: ${fresh.changes.length} of its ${saved.changes.length} change(s) are left.\n`,
  );
  return fresh;
}

function canonical(change: Change): string {
  const { message: _m, provenance: _p, reason: _r, ...rest } = change;
  return JSON.stringify(rest);
}

function renderRunDetails(report: RunReport): string {
  const out: string[] = [];
  for (const op of report.ops) {
    if (op.recovered)
      out.push(`  recovered ${op.changeId}: its write had committed; read back and verified`);
    else if (op.note && op.outcome !== 'applied')
      out.push(`  ${op.outcome} ${op.changeId}: ${op.note}`);
  }
  if (report.resumed && report.resumed.alreadyApplied.length > 0) {
    out.push(
      `  ${report.resumed.alreadyApplied.length} change(s) were applied by interrupted run(s) ${report.resumed.runIds.join(', ')} and are not repeated`,
    );
  }
  const s = report.stats;
  if (s && s.writes > 0) {
    const seconds = s.elapsedMs / 1000;
    out.push(
      `Writes: ${s.writes} in ${s.requests} request(s)${seconds >= 1 ? `, ${(s.writes / seconds).toFixed(1)}/s` : ''}; ${s.throttled} throttled (429), ${s.retries} retried, ${s.reconciled} reconciled, ${s.tokenRefreshes} token refresh(es)${s.longestRetryAfterMs > 0 ? `, longest Retry-After ${Math.round(s.longestRetryAfterMs / 1000)} s` : ''}.`,
    );
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

function positiveInteger(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new EntrasyncError(
        'cli.usage',
        `${flag} needs a positive whole number, not "${value}"`,
      );
    }
    return n;
  };
}
