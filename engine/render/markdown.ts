/**
 * The plan as Markdown for a pull-request comment or a step summary. Stable: the same plan and
 * budget give the same text (the first line carries a marker so a bot can find and update its
 * own comment instead of adding a new one).
 *
 * Fits a character budget (default 60,000; GitHub refuses comments over 65,536). Read top down,
 * what matters most comes first and is always there: the verdict and the summary table, the
 * problems of failed or incomplete sources, and why changes are held. Then, while the budget
 * lasts, the held changes, the other problems and warnings, and the changes by kind; what does
 * not fit is counted in one line pointing to the full plan.
 */
import { subjectOf } from '../model/plan.js';
import { releaseLine } from './held.js';
import type { Change, ChangeKind, Plan, PlanIssue } from '../model/plan.js';
import { describeLocation } from '../model/source.js';
import { KIND_LABELS, KINDS_IN_ORDER, detailLines } from './kinds.js';
import { protectLiftLine } from './text.js';
import type { AttributeValue } from '../model/tenant.js';
import type { Row, Section } from './fit.js';
import { fitSections, sizeOf } from './fit.js';
import { writebackCountRows, writebackSection } from './writeback.js';

export const MARKDOWN_COMMENT_MARKER = '<!-- entrasync-plan -->';
/** Characters: under GitHub's 65,536 for a comment, with room for text a workflow adds. */
export const DEFAULT_MARKDOWN_BUDGET = 60_000;

export interface MarkdownOptions {
  /** Most characters the Markdown may have (default DEFAULT_MARKDOWN_BUDGET). */
  readonly budget?: number;
}

const TITLE = Object.fromEntries(KINDS_IN_ORDER.map((k) => [k, KIND_LABELS[k].title])) as Record<
  ChangeKind,
  string
>;
const KINDS = KINDS_IN_ORDER;
/** Rows per section at most, budget or not: past that a reviewer reads the full plan. */
const MAX_ROWS = 200;
/** Problems listed per failed or incomplete source at the top. */
const MAX_SOURCE_PROBLEMS = 10;
/** Held reasons (distinct messages) listed at the top. */
const MAX_HELD_REASONS = 10;
/** Room kept for the line that counts what did not fit. */
const CUT_LINE_ROOM = 200;
const FULL_PLAN = 'see the full plan (`entrasync show plan.json`)';

export function renderPlanMarkdown(plan: Plan, options: MarkdownOptions = {}): string {
  const budget = options.budget ?? DEFAULT_MARKDOWN_BUDGET;
  const atTop = sourceProblems(plan);
  const head = [...headLines(plan), ...atTop.lines, ...heldReasonLines(plan)];
  const tail = tailLines(plan);
  const shownAtTop = new Set(atTop.shown);
  const rest = plan.issues.filter((i) => !shownAtTop.has(i));
  const sections = [
    heldSection(plan),
    noteSection(plan, rest),
    ...kindSections(plan),
    writebackSection(plan, escape),
  ];
  const room = budget - sizeOf(head) - sizeOf(tail) - CUT_LINE_ROOM;
  const body = fitSections(
    sections.filter((s): s is Section => s !== undefined),
    room,
  );
  const cutLine = cutLineOf(body.cut);
  return [...head, ...body.lines, ...(cutLine ? [cutLine, ''] : []), ...tail].join('\n');
}

function verdictOf(plan: Plan): string {
  if (plan.sources.some((s) => s.status === 'failed'))
    return ':x: a source failed: nothing will be applied';
  if (plan.blocked.length > 0 && plan.onBlocked === 'hold-plan')
    return `:no_entry: ${plan.blocked.length} change(s) held: nothing will be applied (safety.onBlocked: hold-plan)`;
  if (plan.blocked.length > 0)
    return `:pause_button: ${plan.changes.length} change(s) will apply; ${plan.blocked.length} held (reasons below)`;
  const writebacks =
    (plan.writebacks?.changes.length ?? 0) + (plan.writebacks?.blocked.length ?? 0);
  if (plan.changes.length === 0 && writebacks > 0)
    return `:leftwards_arrow_with_hook: no tenant changes; ${writebacks} write-back(s) to the sources`;
  return plan.changes.length === 0
    ? ':white_check_mark: no changes: the tenant matches the configuration'
    : `:memo: ${plan.changes.length} change(s) to apply`;
}

/** Title, verdict, the count table, license seats and the sources line. */
function headLines(plan: Plan): string[] {
  const out: string[] = [MARKDOWN_COMMENT_MARKER, ''];
  out.push(`### entrasync plan \`${plan.fingerprint.slice(0, 12)}\``, '', verdictOf(plan), '');
  out.push('| | count |', '|---|---:|');
  for (const kind of KINDS) {
    const n = plan.changes.filter((c) => c.kind === kind).length;
    if (n > 0) out.push(`| ${TITLE[kind]} | ${n} |`);
  }
  if (plan.blocked.length > 0) out.push(`| **Held** | **${plan.blocked.length}** |`);
  out.push(...writebackCountRows(plan));
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
  return out;
}

/**
 * The problems of each failed or incomplete source, errors first, not collapsed: why nothing
 * (or no deprovisioning) applies is the first thing a reviewer needs. `shown`: the issues
 * listed, left out of the problems section further down.
 */
function sourceProblems(plan: Plan): { lines: string[]; shown: PlanIssue[] } {
  const lines: string[] = [];
  const shown: PlanIssue[] = [];
  for (const source of plan.sources.filter((s) => s.status !== 'complete')) {
    const problems = plan.issues
      .filter((i) => i.source === source.name)
      .sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
    const icon = source.status === 'failed' ? ':x:' : ':warning:';
    lines.push(`#### ${icon} Source \`${source.name}\` ${source.status}`, '');
    const listed = problems.slice(0, MAX_SOURCE_PROBLEMS);
    for (const issue of listed) lines.push(issueLine(issue));
    if (problems.length > listed.length)
      lines.push(`- … and ${problems.length - listed.length} more: ${FULL_PLAN}`);
    if (problems.length === 0) lines.push('- no problem recorded for it');
    lines.push('');
    shown.push(...listed);
  }
  return { lines, shown };
}

/** How the held part is released, and each reason with how many changes it holds. */
function heldReasonLines(plan: Plan): string[] {
  if (plan.blocked.length === 0) return [];
  const out = ['#### Held', '', escape(releaseLine(plan) ?? ''), ''];
  const byReason = heldGroups(plan);
  for (const [message, changes] of byReason.slice(0, MAX_HELD_REASONS))
    out.push(`- ${escape(message)} (${changes.length} change(s))`);
  if (byReason.length > MAX_HELD_REASONS) {
    const more = byReason.slice(MAX_HELD_REASONS);
    const n = more.reduce((sum, [, changes]) => sum + changes.length, 0);
    out.push(`- … and ${more.length} more reason(s) holding ${n} change(s): ${FULL_PLAN}`);
  }
  out.push('');
  return out;
}

/** Held changes grouped by their message, in plan order of first appearance. */
function heldGroups(plan: Plan): [message: string, changes: Change[]][] {
  const byReason = new Map<string, Change[]>();
  for (const b of plan.blocked) {
    const list = byReason.get(b.message);
    if (list) list.push(b.change);
    else byReason.set(b.message, [b.change]);
  }
  return [...byReason];
}

function heldSection(plan: Plan): Section | undefined {
  if (plan.blocked.length === 0) return undefined;
  const rows = plan.blocked.map((b) =>
    changeRow([
      `| \`${subjectOf(b.change).userPrincipalName}\` | ${TITLE[b.change.kind]} | \`${b.code}\` |`,
    ]),
  );
  return {
    open: [
      `<details><summary><b>Held changes</b> (${plan.blocked.length})</summary>`,
      '',
      '| account | change | held by |',
      '|---|---|---|',
    ],
    rows: capped(rows, (n) => `| … | ${n} more | ${FULL_PLAN} |`),
    close: ['', '</details>', ''],
  };
}

/** Problems not listed at the top, and the plan's warnings. */
function noteSection(plan: Plan, issues: readonly PlanIssue[]): Section | undefined {
  const problems = issues.filter((i) => i.severity === 'error');
  if (problems.length === 0 && plan.warnings.length === 0) return undefined;
  const rows = [
    ...capped(
      problems.map((i) => noteRow(issueLine(i))),
      (n) => `- … and ${n} more problem(s): ${FULL_PLAN}`,
    ),
    ...capped(
      plan.warnings.map((w) => noteRow(`- :warning: \`${w.code}\`: ${escape(w.message)}`)),
      (n) => `- … and ${n} more warning(s): ${FULL_PLAN}`,
    ),
  ];
  return {
    open: [
      `<details><summary>Problems (${problems.length}) and warnings (${plan.warnings.length})</summary>`,
      '',
    ],
    rows,
    close: ['', '</details>', ''],
  };
}

function kindSections(plan: Plan): Section[] {
  return KINDS.flatMap((kind) => {
    const changes = plan.changes.filter((c) => c.kind === kind);
    if (changes.length === 0) return [];
    const rows = changes.map((c) =>
      changeRow([
        `| \`${subjectOf(c).userPrincipalName}\` | ${escape(from(c))} | ${details(c).map(escape).join('<br>')} |`,
      ]),
    );
    return [
      {
        open: [
          `<details><summary><b>${TITLE[kind]}</b> (${changes.length})</summary>`,
          '',
          '| account | why | details |',
          '|---|---|---|',
        ],
        rows: capped(rows, (n) => `| … | ${n} more | ${FULL_PLAN} |`),
        close: ['', '</details>', ''],
      },
    ];
  });
}

/** The protect-lift line and the overrides: short, and always shown. */
function tailLines(plan: Plan): string[] {
  const out: string[] = [];
  const lift = protectLiftLine(plan);
  if (lift) out.push(`<sub>${escape(lift)}</sub>`, '');
  if (plan.overrides) {
    const given = Object.entries(plan.overrides).map(([action, n]) => `${action} up to ${n}`);
    out.push(`Threshold overrides bound to this plan: ${given.join(', ')}`, '');
  }
  return out;
}

function cutLineOf(cut: { changes: number; notes: number }): string | undefined {
  const parts = [
    ...(cut.changes > 0 ? [`${cut.changes} more change(s)`] : []),
    ...(cut.notes > 0 ? [`${cut.notes} more problem(s) and warning(s)`] : []),
  ];
  if (parts.length === 0) return undefined;
  return `:scissors: **${parts.join(' and ')} not shown** (this text is kept under its size limit): ${FULL_PLAN}`;
}

const changeRow = (lines: string[]): Row => ({ lines, changes: 1, notes: 0 });
const noteRow = (line: string): Row => ({ lines: [line], changes: 0, notes: 1 });

/** The first MAX_ROWS rows and one line counting the rest (which counts them if it is cut). */
function capped(rows: readonly Row[], more: (n: number) => string): Row[] {
  if (rows.length <= MAX_ROWS) return [...rows];
  const rest = rows.slice(MAX_ROWS);
  return [
    ...rows.slice(0, MAX_ROWS),
    {
      lines: [more(rest.length)],
      changes: rest.reduce((n, r) => n + r.changes, 0),
      notes: rest.reduce((n, r) => n + r.notes, 0),
    },
  ];
}

function issueLine(i: PlanIssue): string {
  const where = describeLocation(i.location);
  const icon = i.severity === 'error' ? ':x:' : ':warning:';
  return `- ${icon} \`${i.code}\`${where && !i.message.includes(where) ? ` at \`${where}\`` : ''}: ${escape(i.message)}`;
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
