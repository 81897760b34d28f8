/**
 * The plan as one self-contained HTML page (`plan -f html`, `show plan.json -f html`), for a CI
 * artifact or a browser: the verdict, the counts and why changes are held at the top; source
 * health, the safety settings and license seats as a panel; then every change, grouped by action,
 * each a table row whose details (values before and after, the source records and the rule
 * behind it) open in place; a filter box narrows the rows by person, UPN, action, reason, rule,
 * group or SKU.
 *
 * The page shell (CSP, styles, the filter script) is html-page.ts: no network, every value
 * escaped. Without the script (a terminal browser) the page is plain tables, all rows shown.
 * Stable: the same plan gives the same bytes.
 */
import type { BlockedChange, Change, ChangeKind, Plan } from '../model/plan.js';
import type { WritebackChange } from '../model/writeback.js';
import { isGroupChange, subjectOf } from '../model/plan.js';
import { describeLocation } from '../model/source.js';
import type { AttributeValue } from '../model/tenant.js';
import { heldByReason, heldHeading, releaseLine } from './held.js';
import { KIND_LABELS, KINDS_IN_ORDER, REASON_LABELS, detailLines, licenseText } from './kinds.js';
import { escapeHtml, filterBox, htmlPage } from './html-page.js';
import { summarizePlan } from './summary.js';
import { protectLiftLine, summaryLine } from './text.js';

const e = escapeHtml;

export function renderPlanHtml(plan: Plan): string {
  const title = `entrasync plan ${plan.fingerprint.slice(0, 12)}`;
  const body = [
    `<header><h1>${e(title)}</h1><p class="verdict">${e(verdictOf(plan))}</p>`,
    `<p>${e(summaryLine(plan))}</p></header>`,
    countsTable(plan),
    heldPanel(plan),
    healthPanel(plan),
    filterBox(
      plan.changes.length +
        plan.blocked.length +
        (plan.writebacks?.changes.length ?? 0) +
        (plan.writebacks?.blocked.length ?? 0),
      'changes',
      'person, UPN, action, reason, rule, group, SKU, value',
    ),
    ...KINDS_IN_ORDER.map((kind) => kindSection(plan, kind)),
    heldSection(plan.blocked),
    writebackSection(plan),
    notesSection(plan),
  ].join('\n');
  return htmlPage(title, body);
}

function verdictOf(plan: Plan): string {
  if (plan.sources.some((s) => s.status === 'failed'))
    return 'A source failed: nothing will be applied.';
  if (plan.blocked.length > 0 && plan.onBlocked === 'hold-plan')
    return `${plan.blocked.length} change(s) held: nothing will be applied (safety.onBlocked: hold-plan).`;
  if (plan.blocked.length > 0)
    return `${plan.changes.length} change(s) will apply; ${plan.blocked.length} held (reasons below).`;
  return plan.changes.length === 0
    ? 'No changes: the tenant matches the configuration.'
    : `${plan.changes.length} change(s) to apply.`;
}

function countsTable(plan: Plan): string {
  const summary = summarizePlan(plan);
  const held = new Map<ChangeKind, number>();
  for (const b of plan.blocked) held.set(b.change.kind, (held.get(b.change.kind) ?? 0) + 1);
  const rows = KINDS_IN_ORDER.filter((k) => summary.byKind[k] !== undefined || held.has(k)).map(
    (k) =>
      `<tr><td><a href="#kind-${k}">${e(KIND_LABELS[k].title)}</a></td><td class="n">${summary.byKind[k] ?? 0}</td><td class="n">${held.get(k) ?? 0}</td></tr>`,
  );
  if (rows.length === 0) return '';
  return `<table class="counts" id="counts"><thead><tr><th>action</th><th>will apply</th><th>held</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function heldPanel(plan: Plan): string {
  if (plan.blocked.length === 0) return '';
  const reasons = heldByReason(plan).map(([code, count]) => {
    const message = plan.blocked.find((b) => b.code === code)?.message ?? '';
    return `<li><code>${e(code)}</code> (${count}): ${e(message)}</li>`;
  });
  const release = releaseLine(plan);
  return [
    `<section class="panel held" id="held-reasons"><h2>${e(heldHeading(plan))}</h2>`,
    `<ul>${reasons.join('')}</ul>`,
    release ? `<p>${e(release)}</p>` : '',
    '</section>',
  ].join('');
}

function healthPanel(plan: Plan): string {
  const sources = plan.sources.map(
    (s) =>
      `<tr class="status-${e(s.status)}"><td>${e(s.name)}</td><td>${e(s.kind)}</td><td>${e(s.status)}</td><td class="n">${s.records}</td><td class="n">${s.errors}</td><td class="n">${s.warnings}</td></tr>`,
  );
  const safety: string[] = [];
  const lift = protectLiftLine(plan);
  if (lift) safety.push(lift);
  if (plan.onBlocked) safety.push(`safety.onBlocked: ${plan.onBlocked}`);
  for (const [action, n] of Object.entries(plan.overrides ?? {})) {
    safety.push(`threshold override for this plan: ${action} up to ${n}`);
  }
  const seats = (plan.licenses ?? []).map(
    (l) =>
      `<tr><td>${e(l.skuPartNumber)}</td><td class="n">${l.seats}</td><td class="n">${l.consumed}</td></tr>`,
  );
  return [
    '<section class="panel" id="health"><h2>Sources and safety</h2>',
    `<table><thead><tr><th>source</th><th>kind</th><th>status</th><th>records</th><th>errors</th><th>warnings</th></tr></thead><tbody>${sources.join('')}</tbody></table>`,
    safety.length > 0 ? `<ul>${safety.map((s) => `<li>${e(s)}</li>`).join('')}</ul>` : '',
    seats.length > 0
      ? `<table><thead><tr><th>license</th><th>seats</th><th>consumed</th></tr></thead><tbody>${seats.join('')}</tbody></table>`
      : '',
    '</section>',
  ].join('');
}

function kindSection(plan: Plan, kind: ChangeKind): string {
  const changes = plan.changes.filter((c) => c.kind === kind);
  if (changes.length === 0) return '';
  return section(
    `kind-${kind}`,
    `${KIND_LABELS[kind].title}`,
    changes.map((c) => changeRow(c)),
  );
}

function heldSection(blocked: readonly BlockedChange[]): string {
  if (blocked.length === 0) return '';
  return section(
    'held',
    'Held (not applied)',
    blocked.map((b) => changeRow(b.change, b)),
  );
}

/** Values written back to the sources' records after the apply (`writeback:`), and those held. */
function writebackSection(plan: Plan): string {
  const section = plan.writebacks;
  if (!section || section.changes.length + section.blocked.length === 0) return '';
  const rows = [
    ...section.changes.map((w) => writebackRow(w)),
    ...section.blocked.map((b) => writebackRow(b.change, `held: ${b.code}: ${b.message}`)),
  ];
  return [
    `<section class="changes filter-group" id="writebacks"><h2>Write-back to sources (<span class="count">${rows.length}</span>)</h2>`,
    '<table><thead><tr><th>source</th><th>record</th><th>account</th><th>details</th></tr></thead><tbody>',
    rows.join('\n'),
    '</tbody></table></section>',
  ].join('\n');
}

function writebackRow(w: WritebackChange, held?: string): string {
  const record = w.record.dn ?? w.record.id ?? w.record.key;
  const facts = [
    ...(held ? [held] : []),
    ...w.set.map((f) => `${f.field}: ${show(f.before)} → ${show(f.after)} (from ${f.from})`),
    `id: ${w.id}`,
  ];
  const search = ['write-back', w.source, record, w.user.userPrincipalName, w.message, ...facts]
    .join(' ')
    .toLowerCase();
  return [
    `<tr class="change filterable" data-search="${e(search)}">`,
    `<td>${e(w.source)}</td><td>${e(record)}</td><td>${e(w.user.userPrincipalName)}</td>`,
    `<td><details><summary>${e(w.message)}</summary><ul>${facts.map((f) => `<li>${e(f)}</li>`).join('')}</ul></details></td>`,
    '</tr>',
  ].join('');
}

function section(id: string, title: string, rows: string[]): string {
  return [
    `<section class="changes filter-group" id="${e(id)}"><h2>${e(title)} (<span class="count">${rows.length}</span>)</h2>`,
    '<table><thead><tr><th>action</th><th>object</th><th>reason</th><th>details</th></tr></thead><tbody>',
    rows.join('\n'),
    '</tbody></table></section>',
  ].join('\n');
}

function changeRow(change: Change, held?: BlockedChange): string {
  const subject = subjectOf(change);
  const label = KIND_LABELS[change.kind];
  const details = detailLines(change, show, '→');
  const provenance = change.provenance.map(
    (p) =>
      `${p.source}:${p.key}${describeLocation(p.location) ? ` (${describeLocation(p.location)})` : ''}`,
  );
  const facts = [
    ...(held ? [`held: ${held.code}: ${held.message}`] : []),
    ...details,
    ...(change.rule ? [`rule: ${change.rule}`] : []),
    ...provenance.map((p) => `source record: ${p}`),
    ...(change.requires?.length ? [`after: ${change.requires.join(', ')}`] : []),
    `id: ${change.id}`,
  ];
  const search = [
    label.verb,
    change.kind,
    subject.userPrincipalName,
    isGroupChange(change) ? change.group.uniqueName : '',
    REASON_LABELS[change.reason],
    change.reason,
    change.message,
    change.rule ?? '',
    held?.code ?? '',
    ...searchExtras(change),
    ...details,
    ...provenance,
  ]
    .join(' ')
    .toLowerCase();
  return [
    `<tr class="change filterable" data-search="${e(search)}">`,
    `<td>${e(label.verb)}</td>`,
    `<td>${e(subject.userPrincipalName)}</td>`,
    `<td>${e(REASON_LABELS[change.reason])}</td>`,
    `<td><details><summary>${e(change.message)}</summary><ul>${facts.map((f) => `<li>${e(f)}</li>`).join('')}</ul></details></td>`,
    '</tr>',
  ].join('');
}

/** Words a filter should find that the row's text does not spell: members, SKUs, managers. */
function searchExtras(change: Change): string[] {
  switch (change.kind) {
    case 'addMembers':
    case 'removeMembers':
      return [
        change.group.displayName,
        ...change.members.map((m) => m.userPrincipalName),
        ...(change.memberGroups ?? []).map((g) => g.displayName),
      ];
    case 'assignLicenses':
    case 'removeLicenses':
    case 'assignGroupLicenses':
    case 'removeGroupLicenses':
      return change.licenses.map(licenseText);
    case 'setManager':
      return [change.manager.userPrincipalName];
    default:
      return isGroupChange(change) ? [change.group.displayName] : [];
  }
}

function notesSection(plan: Plan): string {
  const items = [
    ...plan.issues.map(
      (i) =>
        `${i.severity}: ${i.source}${describeLocation(i.location) ? ` ${describeLocation(i.location)}` : ''}: ${i.message}`,
    ),
    ...plan.warnings.map((w) => `warning: ${w.message}`),
  ];
  if (items.length === 0) return '';
  return `<section class="panel" id="notes"><h2>Problems and warnings (${items.length})</h2><ul>${items.map((i) => `<li>${e(i)}</li>`).join('')}</ul></section>`;
}

function show(value: AttributeValue): string {
  return value === null || value === undefined ? '(none)' : JSON.stringify(value);
}
