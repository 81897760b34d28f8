/**
 * The plan as Markdown for a pull-request comment: a summary table, changes grouped by kind in
 * collapsible sections, blocked changes with their reasons, problems and warnings. Stable: the
 * same plan gives the same text (the first line carries a marker so a bot can find and update
 * its own comment instead of adding a new one).
 */
import { subjectOf } from '../model/plan.js';
import { releaseLine } from './held.js';
import type { Change, ChangeKind, Plan } from '../model/plan.js';
import { describeLocation } from '../model/source.js';
import { KIND_LABELS, KINDS_IN_ORDER, detailLines } from './kinds.js';
import { protectLiftLine } from './text.js';
import type { AttributeValue } from '../model/tenant.js';

export const MARKDOWN_COMMENT_MARKER = '<!-- entrasync-plan -->';

const TITLE = Object.fromEntries(KINDS_IN_ORDER.map((k) => [k, KIND_LABELS[k].title])) as Record<
  ChangeKind,
  string
>;
const KINDS = KINDS_IN_ORDER;
const MAX_ROWS = 200;

export function renderPlanMarkdown(plan: Plan): string {
  const out: string[] = [MARKDOWN_COMMENT_MARKER, ''];
  const verdict = plan.sources.some((s) => s.status === 'failed')
    ? ':x: a source failed: nothing will be applied'
    : plan.blocked.length > 0 && plan.onBlocked === 'hold-plan'
      ? `:no_entry: ${plan.blocked.length} change(s) held: nothing will be applied (safety.onBlocked: hold-plan)`
      : plan.blocked.length > 0
        ? `:pause_button: ${plan.changes.length} change(s) will apply; ${plan.blocked.length} held (reasons below)`
        : plan.changes.length === 0
          ? ':white_check_mark: no changes: the tenant matches the configuration'
          : `:memo: ${plan.changes.length} change(s) to apply`;
  out.push(`### entrasync plan \`${plan.fingerprint.slice(0, 12)}\``, '', verdict, '');

  out.push('| | count |', '|---|---:|');
  for (const kind of KINDS) {
    const n = plan.changes.filter((c) => c.kind === kind).length;
    if (n > 0) out.push(`| ${TITLE[kind]} | ${n} |`);
  }
  if (plan.blocked.length > 0) out.push(`| **Held** | **${plan.blocked.length}** |`);
  if (plan.licenses && plan.licenses.length > 0) {
    out.push('', '| SKU | seats | consumed | + | - | short |', '|---|---:|---:|---:|---:|---:|');
    for (const l of plan.licenses) {
      out.push(
        `| ${escape(l.skuPartNumber)} | ${l.seats} | ${l.consumed} | ${l.adding} | ${l.removing} | ${l.shortfall > 0 ? `**${l.shortfall}**` : 0} |`,
      );
    }
  }
  out.push(
    `| Managed accounts | ${plan.managedUsers} |`,
    `| Left alone | ${plan.ignored.length} |`,
  );
  const otherConfigs = plan.ignored.filter((i) => i.reason === 'other-config').length;
  if (otherConfigs > 0) out.push(`| Left alone (another config) | ${otherConfigs} |`);
  const unprovisioned = plan.notProvisioned?.length ?? 0;
  if (unprovisioned > 0) out.push(`| Not provisioned (create: false) | ${unprovisioned} |`);
  out.push('');

  out.push(
    '**Sources:** ' +
      plan.sources
        .map((s) => `\`${s.name}\` (${s.kind}) ${s.status}, ${s.records} records`)
        .join(' · '),
    '',
  );

  if (plan.blocked.length > 0) {
    out.push('#### Held', '', escape(releaseLine(plan) ?? ''), '');
    const byReason = new Map<string, Change[]>();
    for (const b of plan.blocked) {
      const list = byReason.get(b.message);
      if (list) list.push(b.change);
      else byReason.set(b.message, [b.change]);
    }
    for (const [message, changes] of byReason) {
      out.push(`- ${escape(message)}`);
      out.push(`  <details><summary>${changes.length} change(s)</summary>`, '');
      for (const c of changes.slice(0, MAX_ROWS))
        out.push(`  - ${TITLE[c.kind]} \`${subjectOf(c).userPrincipalName}\``);
      if (changes.length > MAX_ROWS) out.push(`  - … and ${changes.length - MAX_ROWS} more`);
      out.push('', '  </details>');
    }
    out.push('');
  }

  for (const kind of KINDS) {
    const changes = plan.changes.filter((c) => c.kind === kind);
    if (changes.length === 0) continue;
    out.push(`<details><summary><b>${TITLE[kind]}</b> (${changes.length})</summary>`, '');
    out.push('| account | why | details |', '|---|---|---|');
    for (const c of changes.slice(0, MAX_ROWS)) {
      out.push(
        `| \`${subjectOf(c).userPrincipalName}\` | ${escape(from(c))} | ${details(c).map(escape).join('<br>')} |`,
      );
    }
    if (changes.length > MAX_ROWS)
      out.push(`| … | ${changes.length - MAX_ROWS} more | see the JSON plan |`);
    out.push('', '</details>', '');
  }

  const problems = plan.issues.filter((i) => i.severity === 'error');
  if (problems.length > 0 || plan.warnings.length > 0) {
    out.push(
      `<details><summary>Problems (${problems.length}) and warnings (${plan.warnings.length})</summary>`,
      '',
    );
    for (const i of problems.slice(0, MAX_ROWS)) {
      const where = describeLocation(i.location);
      out.push(
        `- :x: \`${i.code}\`${where && !i.message.includes(where) ? ` at \`${where}\`` : ''}: ${escape(i.message)}`,
      );
    }
    for (const w of plan.warnings.slice(0, MAX_ROWS))
      out.push(`- :warning: \`${w.code}\`: ${escape(w.message)}`);
    out.push('', '</details>', '');
  }
  const lift = protectLiftLine(plan);
  if (lift) out.push(`<sub>${escape(lift)}</sub>`, '');
  if (plan.overrides) {
    const given = Object.entries(plan.overrides).map(([action, n]) => `${action} up to ${n}`);
    out.push(`Threshold overrides bound to this plan: ${given.join(', ')}`, '');
  }
  return out.join('\n');
}

function from(c: Change): string {
  const reason = c.reason.replace(/-/g, ' ');
  const where = c.provenance.map(
    (p) =>
      `${p.source}:${p.key}${describeLocation(p.location) ? ` (${describeLocation(p.location)})` : ''}`,
  );
  return where.length > 0 ? `${reason} · ${where.join(', ')}` : reason;
}

function details(c: Change): string[] {
  const lines = detailLines(c, show, '→');
  // The table's first column already names the user.
  return c.kind === 'createUser' ? lines.filter((l) => !l.startsWith('userPrincipalName:')) : lines;
}

function show(value: AttributeValue): string {
  return value === null ? '_(none)_' : `\`${JSON.stringify(value).replace(/`/g, "'")}\``;
}

/** Keeps user data from breaking the table or injecting markup into the comment. */
function escape(text: string): string {
  return text
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r?\n/g, ' ');
}
