/**
 * Checks the config against what the sources actually declare, before anything is planned:
 * a mapping that reads a field the source does not have would otherwise evaluate to "nothing"
 * for everyone (JSONata's undefined-is-false makes `status = 'active'` false), and a sync tool
 * would then disable every account (catalogue S9, M1).
 */
import { closest, distance } from 'fastest-levenshtein';
import type { Expression } from '../expr/jsonata.js';
import type { Diagnostic } from '../model/diagnostic.js';
import type { SourceSnapshot } from '../model/source.js';
import type { SyncSpec } from '../model/spec.js';

/** Every expression of the spec with the source whose record is its input. */
export function specExpressions(spec: SyncSpec): { expression: Expression; input: string }[] {
  const list: Expression[] = [];
  if (spec.users.scope) list.push(spec.users.scope);
  list.push(spec.users.anchor);
  list.push(...Object.values(spec.users.attributes));
  if (spec.users.manager) list.push(spec.users.manager);
  for (const group of spec.groups) {
    if (group.foreach) list.push(group.foreach);
    if (group.members) list.push(group.members);
    if (typeof group.name !== 'string') list.push(group.name);
  }
  for (const license of spec.licenses) if (license.when) list.push(license.when);
  return [
    ...list.map((expression) => ({ expression, input: spec.primarySource })),
    ...spec.links.flatMap((link) => [
      { expression: link.key, input: link.source },
      { expression: link.equals, input: spec.primarySource },
    ]),
  ];
}

export function lintFieldReferences(
  spec: SyncSpec,
  snapshots: readonly SourceSnapshot[],
): Diagnostic[] {
  const byName = new Map(snapshots.map((s) => [s.name, s]));
  const diagnostics: Diagnostic[] = [];
  for (const { expression, input } of specExpressions(spec)) {
    for (const ref of expression.fieldReferences) {
      const sourceName = ref.variable ?? input;
      const source = byName.get(sourceName);
      // `$x.y` where x is not a source is a bound variable or function: not ours to check. A
      // failed source declares nothing trustworthy; its failure is reported on its own.
      if (!source || source.status === 'failed' || source.fields.length === 0) continue;
      if (source.fields.includes(ref.field)) continue;
      const suggestion = suggest(ref.field, source.fields);
      diagnostics.push({
        severity: 'error',
        code: 'expr.unknown-field',
        message:
          `field \`${ref.field}\` not present in source \`${source.name}\`` +
          (suggestion
            ? ` (did you mean \`${suggestion}\`?)`
            : ` (it has: ${source.fields.join(', ')})`),
        path: expression.configPath,
        position: expression.positionAt(ref.offset),
      });
    }
  }
  return diagnostics;
}

/** A close field name: same letters in another case, or a small edit away. */
export function suggest(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const sameCase = candidates.find((c) => c.toLowerCase() === lower);
  if (sameCase) return sameCase;
  if (candidates.length === 0) return undefined;
  const best = closest(name, [...candidates]);
  return distance(name, best) <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
