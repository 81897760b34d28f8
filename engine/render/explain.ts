/** `explain` output as text. Pure: (data) => string. */
import { subjectOf } from '../model/plan.js';
import type { Explanation } from '../pipeline/explain.js';
import { describeLocation } from '../model/source.js';
import type { AttributeValue } from '../model/tenant.js';

const DECISION: Record<Explanation['decision'], string> = {
  'in-scope': 'in scope: should have an account',
  'out-of-scope': 'out of scope: users.scope does not hold, so a managed account is deprovisioned',
  held: 'held: records have errors this run, so the account is neither created, changed nor deprovisioned',
  'not-found': 'no person in the sources',
};

export function renderExplanationsText(explanations: readonly Explanation[]): string {
  return explanations.map(renderOne).join('\n');
}

function renderOne(e: Explanation): string {
  const out: string[] = [];
  out.push(`${e.personKey ?? e.query}: ${DECISION[e.decision]}`);
  if (e.records.length > 0) {
    out.push('  records');
    for (const r of e.records) {
      out.push(`    ${r.source}:${r.key} (${describeLocation(r.location)})`);
      for (const [field, value] of Object.entries(r.fields))
        out.push(`      ${field}: ${JSON.stringify(value)}`);
    }
  }
  if (e.anchor !== undefined) out.push(`  anchor: ${JSON.stringify(e.anchor)}`);
  if (e.attributes) {
    out.push('  mapped attributes (value <- rule)');
    const rule = new Map(
      e.rules.map((r) => [r.configPath.replace(/^users\.attributes\./, ''), r.expression]),
    );
    for (const [attribute, value] of Object.entries(e.attributes)) {
      const expression = rule.get(attribute);
      out.push(
        `    ${attribute}: ${show(value)}${expression !== undefined ? `  <- ${expression}` : '  (derived)'}`,
      );
    }
  }
  const scope = e.rules.find((r) => r.configPath === 'users.scope');
  if (scope) out.push(`  scope rule: ${scope.expression}`);
  if (e.account) {
    const how = e.account.matchedBy ? `, matched by ${e.account.matchedBy}` : '';
    out.push(
      `  account: ${e.account.userPrincipalName} (${e.account.id}${how}; ${e.account.ownership ?? 'unknown'})`,
    );
  } else if (e.decision === 'in-scope') {
    out.push('  account: none yet (it will be created)');
  }
  if (e.changes.length + e.blocked.length === 0) out.push('  changes: none');
  else {
    out.push('  changes');
    for (const c of e.changes)
      out.push(`    ${c.kind} ${subjectOf(c).userPrincipalName}: ${c.message}`);
    for (const b of e.blocked)
      out.push(`    ${b.change.kind} ${subjectOf(b.change).userPrincipalName}: ${b.message}`);
  }
  for (const issue of e.issues) {
    out.push(`  ${issue.severity}: ${issue.message}`);
  }
  return out.join('\n') + '\n';
}

function show(value: AttributeValue): string {
  return value === null ? '(none)' : JSON.stringify(value);
}
