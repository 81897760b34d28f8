/** Plan and run report as text for a terminal or a CI log. Pure: (data) => string. */
import { subjectOf } from '../model/plan.js';
import type { AttributeValue } from '../model/tenant.js';
import type { Change, ChangeKind, Plan } from '../model/plan.js';
import type { RunReport } from '../model/report.js';
import { countOutcomes } from '../model/report.js';
import { describeLocation } from '../model/source.js';
import { heldHeading, releaseLine } from './held.js';
import { writebackSummary, writebackTextLines } from './writeback.js';
import { KIND_LABELS, KINDS_IN_ORDER, REASON_LABELS, detailLines } from './kinds.js';

const MAX_LISTED = 10;

export function renderPlanText(plan: Plan): string {
  const out: string[] = [];
  out.push('Sources');
  for (const s of plan.sources) {
    const extra = [
      s.errors ? `${s.errors} error(s)` : '',
      s.warnings ? `${s.warnings} warning(s)` : '',
    ]
      .filter(Boolean)
      .join(', ');
    out.push(
      `  ${s.name} (${s.kind}): ${s.status}, ${s.records} records${extra ? `, ${extra}` : ''}`,
    );
  }
  const unmanaged = plan.ignored.length;
  out.push('');
  out.push(
    `Tenant: ${plan.managedUsers} account(s) managed by this config; ${unmanaged} other account(s) left alone`,
  );

  if (plan.changes.length > 0) {
    out.push('');
    const held = plan.blocked.length > 0 && plan.onBlocked === 'hold-plan';
    out.push(
      `${held ? 'Changes, not applied while anything is held' : 'Will apply'} (${plan.changes.length})`,
    );
    for (const change of plan.changes) out.push(...renderChange(change));
  }
  if (plan.blocked.length > 0) {
    out.push('');
    out.push(heldHeading(plan));
    for (const b of plan.blocked) {
      out.push(...renderChange(b.change));
      out.push(`      ${b.message}`);
    }
  }
  out.push(...writebackTextLines(plan));
  if (plan.licenses && plan.licenses.length > 0) {
    out.push('');
    out.push('License seats');
    for (const l of plan.licenses) {
      out.push(
        `  ${l.skuPartNumber}: ${l.seats} seats, ${l.consumed} consumed, +${l.adding} -${l.removing} by this plan${l.shortfall > 0 ? `: ${l.shortfall} SHORT` : ''}`,
      );
    }
  }
  if (plan.issues.length > 0) {
    out.push('');
    out.push(`Problems in the sources (${plan.issues.length})`);
    for (const issue of plan.issues) {
      const where = describeLocation(issue.location);
      const at = where && !issue.message.includes(where) ? ` at ${where}` : '';
      out.push(`  ${issue.severity} ${issue.code}${at}: ${issue.message}`);
    }
  }
  if (plan.warnings.length > 0) {
    out.push('');
    out.push(`Warnings (${plan.warnings.length})`);
    for (const w of plan.warnings) out.push(`  ${w.code}: ${w.message}`);
  }
  if (unmanaged > 0) {
    out.push('');
    const listed = plan.ignored
      .slice(0, MAX_LISTED)
      .map((i) => `${i.user.userPrincipalName} (${ignoredLabel(i)})`);
    out.push(
      `Left alone (${unmanaged}): ${listed.join(', ')}${unmanaged > MAX_LISTED ? `, and ${unmanaged - MAX_LISTED} more` : ''}`,
    );
  }
  const unprovisioned = plan.notProvisioned ?? [];
  if (unprovisioned.length > 0) {
    out.push('');
    const listed = unprovisioned.slice(0, MAX_LISTED).map((p) => p.userPrincipalName);
    out.push(
      `Not provisioned (create: false) (${unprovisioned.length}): ${listed.join(', ')}${unprovisioned.length > MAX_LISTED ? `, and ${unprovisioned.length - MAX_LISTED} more` : ''}`,
    );
  }
  if (plan.overrides) {
    out.push('');
    const given = Object.entries(plan.overrides).map(([action, n]) => `${action} up to ${n}`);
    out.push(`Threshold overrides bound to this plan: ${given.join(', ')}`);
  }
  const lift = protectLiftLine(plan);
  if (lift) {
    out.push('');
    out.push(lift);
  }
  out.push('');
  out.push(summaryLine(plan));
  // Last, where a reader of a long plan looks: what is held and how it is released.
  const release = releaseLine(plan);
  if (release) out.push(release);
  return out.join('\n') + '\n';
}

/** Why an account is left alone; another config's accounts name that config's marker (P16). */
export function ignoredLabel(i: Plan['ignored'][number]): string {
  if (i.reason === 'other-config') return `another config${i.marker ? `: ${i.marker}` : ''}`;
  if (i.reason === 'legacy-marker') return `legacy marker${i.marker ? ` "${i.marker}"` : ''}`;
  return i.reason;
}

/**
 * One line about the protect-lift check (P2): that it did not run, or which accounts this change
 * stops protecting; nothing when it ran and lifted nothing. Shared with the Markdown renderer.
 */
export function protectLiftLine(plan: Plan): string | undefined {
  const check = plan.protectLift;
  if (!check?.ran) return 'protect-lift check not run: no baseline (--baseline <git-ref>)';
  if (check.lifted.length === 0) return undefined;
  const from = check.baseline.from === undefined ? '' : ` (baseline ${check.baseline.from})`;
  return `Protection lifted by this change${from}: ${check.lifted.map((u) => u.userPrincipalName).join(', ')}`;
}

export function summaryLine(plan: Plan): string {
  const counts = new Map<ChangeKind, number>();
  for (const c of plan.changes) counts.set(c.kind, (counts.get(c.kind) ?? 0) + 1);
  const parts = KINDS_IN_ORDER.filter((k) => counts.has(k)).map(
    (k) => `${counts.get(k)} to ${KIND_LABELS[k].verb}`,
  );
  const id = plan.fingerprint.slice(0, 12);
  const writebacks = writebackSummary(plan);
  if (writebacks !== '') parts.push(writebacks);
  if (plan.changes.length === 0 && plan.blocked.length === 0 && writebacks === '') {
    // Errors kept people out of the plan: nothing to do is not the same as in sync.
    const errors = plan.issues.filter((i) => i.severity === 'error').length;
    return errors === 0
      ? `Plan ${id}: no changes. The tenant matches the configuration.`
      : `Plan ${id}: no changes, but ${errors} problem(s) above keep people out of the plan; the tenant does not match the configuration until they are fixed.`;
  }
  const held = plan.blocked.length > 0 ? `; ${plan.blocked.length} held` : '';
  return `Plan ${id}: ${parts.length > 0 ? parts.join(', ') : 'nothing to apply'}${held}.`;
}

function renderChange(change: Change): string[] {
  const lines: string[] = [];
  const from = change.provenance
    .map(
      (p) =>
        `${p.source}:${p.key}${describeLocation(p.location) ? ` (${describeLocation(p.location)})` : ''}`,
    )
    .join(', ');
  const label = KIND_LABELS[change.kind];
  lines.push(
    `  ${label.symbol} ${label.verb.padEnd(7)} ${subjectOf(change).userPrincipalName}  [${REASON_LABELS[change.reason]}${from ? ` · ${from}` : ''}]`,
  );
  for (const line of detailLines(change, show, '->')) lines.push(`      ${line}`);
  return lines;
}

function show(value: AttributeValue | undefined): string {
  if (value === null || value === undefined) return '(none)';
  return JSON.stringify(value);
}

export function renderReportText(report: RunReport): string {
  const out: string[] = [];
  for (const op of report.ops) {
    const error = op.error
      ? ` - ${op.error.status ?? ''} ${op.error.code}: ${op.error.message}`.replace('  ', ' ')
      : '';
    // An onboarding step says where the credential went ("credential delivered to ...").
    const note =
      op.outcome === 'applied' && op.kind === 'onboardUser' && op.note ? `: ${op.note}` : '';
    out.push(
      `  ${op.outcome.padEnd(8)} ${KIND_LABELS[op.kind].verb.padEnd(7)} ${op.user.userPrincipalName}${note}${error}`,
    );
  }
  const c = countOutcomes(report);
  out.push('');
  out.push(
    `Apply ${report.planFingerprint.slice(0, 12)}: ${c.applied} applied, ${c.failed} failed, ${c.skipped} skipped, ${c['not-run']} not run.`,
  );
  return out.join('\n') + '\n';
}
