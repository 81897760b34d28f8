/**
 * A minimal check of a dynamic group's `membershipRule`, so that a rule Graph would refuse is
 * refused here too rather than stored: the simulator does not evaluate rules (no dynamic member
 * is ever computed; see README). What it checks, from the dynamic membership rule reference:
 * balanced parentheses, brackets and double quotes; at least one `user.<property>` or
 * `device.<property>` compared with an operator; every `-word` outside quotes a known operator
 * (`-eq`, `-ne`, `-startsWith`, `-notStartsWith`, `-contains`, `-notContains`, `-match`,
 * `-notMatch`, `-in`, `-notIn`, `-le`, `-ge`, `-any`, `-all`, `-and`, `-or`, `-not`). Property
 * names are not checked against the user schema.
 */

const OPERATORS = new Set(
  [
    'eq',
    'ne',
    'startsWith',
    'notStartsWith',
    'contains',
    'notContains',
    'match',
    'notMatch',
    'in',
    'notIn',
    'le',
    'ge',
    'any',
    'all',
    'and',
    'or',
    'not',
  ].map((o) => o.toLowerCase()),
);

const COMPARISON = /\b(user|device)\.[A-Za-z_][A-Za-z0-9_]*\s+-[A-Za-z]+/;

/** Undefined when the rule passes; else why not. */
export function membershipRuleProblem(rule: string): string | undefined {
  let depth = 0;
  let brackets = 0;
  let outside = '';
  let quoted = false;
  for (const ch of rule) {
    if (ch === '"') {
      quoted = !quoted;
      outside += ' ';
      continue;
    }
    if (quoted) continue;
    outside += ch;
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === '[') brackets += 1;
    if (ch === ']') brackets -= 1;
    if (depth < 0 || brackets < 0) return 'unbalanced parentheses';
  }
  if (quoted) return 'unterminated string';
  if (depth !== 0 || brackets !== 0) return 'unbalanced parentheses';
  if (!COMPARISON.test(outside)) return 'no property compared (e.g. user.department -eq "Sales")';
  for (const [, word] of outside.matchAll(/(?:^|[\s(])-([A-Za-z]+)/g)) {
    if (!OPERATORS.has((word ?? '').toLowerCase())) return `unknown operator -${word}`;
  }
  return undefined;
}
