/**
 * The plan's write-back section (issue 26) in text and Markdown, and its part of the summary
 * line. Pure: (plan) => lines. Shown after the Graph changes, since it is applied after them.
 */
import type { Plan } from '../model/plan.js';
import type { WritebackChange } from '../model/writeback.js';
import type { Section } from './fit.js';

function changeLine(c: WritebackChange): string {
  return `  ↩ write   ${c.source}:${c.record.dn ?? c.record.id ?? c.record.key}  [from ${c.user.userPrincipalName}]`;
}

function fieldLines(c: WritebackChange, arrow: string): string[] {
  return c.set.map(
    (s) =>
      `${s.field}: ${s.before === null ? '(none)' : JSON.stringify(s.before)} ${arrow} ${JSON.stringify(s.after)}  (Entra ${s.from})`,
  );
}

/** Text lines: `Write-back (n)` and `Write-back held (n)`; none without write-backs. */
export function writebackTextLines(plan: Plan): string[] {
  const wb = plan.writebacks;
  if (!wb) return [];
  const out: string[] = [];
  if (wb.changes.length > 0) {
    out.push('', `Write-back to the sources, after the changes above (${wb.changes.length})`);
    for (const c of wb.changes) {
      out.push(changeLine(c));
      for (const line of fieldLines(c, '->')) out.push(`      ${line}`);
    }
  }
  if (wb.blocked.length > 0) {
    out.push('', `Write-back held (${wb.blocked.length}) - not written`);
    for (const b of wb.blocked) {
      out.push(changeLine(b.change));
      out.push(`      ${b.message}`);
    }
  }
  return out;
}

/** `, 3 to write back; 2 write-backs held` for the summary line ('' without any). */
export function writebackSummary(plan: Plan): string {
  const wb = plan.writebacks;
  if (!wb) return '';
  const parts = [
    ...(wb.changes.length > 0 ? [`${wb.changes.length} to write back`] : []),
    ...(wb.blocked.length > 0 ? [`${wb.blocked.length} write-back(s) held`] : []),
  ];
  return parts.join('; ');
}

/** Rows of the Markdown count table. */
export function writebackCountRows(plan: Plan): string[] {
  const wb = plan.writebacks;
  if (!wb) return [];
  return [
    ...(wb.changes.length > 0 ? [`| Write-back | ${wb.changes.length} |`] : []),
    ...(wb.blocked.length > 0 ? [`| **Write-back held** | **${wb.blocked.length}** |`] : []),
  ];
}

/** The collapsible Markdown section of write-backs and held write-backs. */
export function writebackSection(
  plan: Plan,
  escape: (text: string) => string,
): Section | undefined {
  const wb = plan.writebacks;
  if (!wb || wb.changes.length + wb.blocked.length === 0) return undefined;
  const row = (c: WritebackChange, held: string) => ({
    lines: [
      `| \`${escape(c.source)}\` \`${escape(c.record.dn ?? c.record.id ?? c.record.key)}\` | \`${escape(c.user.userPrincipalName)}\` | ${fieldLines(c, '→').map(escape).join('<br>')} | ${held} |`,
    ],
    changes: 1,
    notes: 0,
  });
  return {
    open: [
      `<details><summary><b>Write-back</b> (${wb.changes.length}${wb.blocked.length > 0 ? `, ${wb.blocked.length} held` : ''})</summary>`,
      '',
      '| source record | from account | fields | held by |',
      '|---|---|---|---|',
    ],
    rows: [
      ...wb.changes.map((c) => row(c, '')),
      ...wb.blocked.map((b) => row(b.change, `\`${b.code}\`: ${escape(b.message)}`)),
    ],
    close: ['', '</details>', ''],
  };
}
