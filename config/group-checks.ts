/**
 * Config checks of `groups` that span rules: nesting (`memberGroups`) and dynamic membership
 * (`membershipRule`). Part of load.ts's cross-field checks, with file:line:column.
 */
import type { Document } from 'yaml';
import { groupSlug } from '../engine/expr/normalize.js';
import type { Diagnostic } from '../engine/model/diagnostic.js';
import {
  configError,
  positionOfKey,
  positionOfValue,
  type PathSegment,
  type SourceLocator,
} from './diagnostics.js';

/**
 * `groups[].memberGroups`: every entry names another rule's key; no Microsoft 365 group on either
 * side (Graph refuses it); no cycle between rules (each would nest a group in itself as soon as
 * the groups exist, since a pairing through people links every pair of values it meets).
 */
export function nestingDiagnostics(
  groups: readonly unknown[],
  keys: ReadonlyMap<string, number>,
  doc: Document,
  locator: SourceLocator,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  /** A rule a rule nests, and where its `memberGroups` names it. */
  type Edge = { readonly child: number; readonly at: PathSegment[] };
  const edges = new Map<number, Edge[]>();
  const isUnified = (i: number) => asObject(groups[i])?.['type'] === 'microsoft365';
  groups.forEach((group, i) => {
    const list = asObject(group)?.['memberGroups'];
    if (!Array.isArray(list)) return;
    const children: Edge[] = [];
    if (isUnified(i) && list.length > 0) {
      out.push(
        configError(
          'config.nesting',
          `\`groups[${i}]\` is a Microsoft 365 group (\`type: microsoft365\`): it cannot contain groups (Graph refuses), so it cannot have \`memberGroups\``,
          ['groups', i, 'memberGroups'],
          positionOfKey(doc, locator, ['groups', i, 'memberGroups']),
        ),
      );
    }
    list.forEach((entry: unknown, j) => {
      if (typeof entry !== 'string') return;
      const at: PathSegment[] = ['groups', i, 'memberGroups', j];
      const child = keys.get(entry);
      if (child === undefined) {
        const known = [...keys.keys()].filter((k) => k !== entry);
        out.push(
          configError(
            'config.unknown-group',
            `\`groups[${i}].memberGroups\` names \`${entry}\`, which is no rule's key (the keys are ${known.map((k) => `\`${k}\``).join(', ') || 'none'})`,
            at,
            positionOfValue(doc, locator, at),
          ),
        );
        return;
      }
      if (isUnified(child)) {
        out.push(
          configError(
            'config.nesting',
            `\`groups[${i}].memberGroups\` names \`${entry}\`, a Microsoft 365 group (\`groups[${child}]\`): Microsoft 365 groups cannot be members of other groups (Graph refuses)`,
            at,
            positionOfValue(doc, locator, at),
          ),
        );
        return;
      }
      // A cycle is reported at the first entry naming the child, should it be listed twice.
      children.push({ child, at: ['groups', i, 'memberGroups', list.indexOf(entry)] });
    });
    edges.set(i, children);
  });
  // Cycles between rules, each reported once, at the entry that closes it.
  const state = new Map<number, 'open' | 'done'>();
  const stack: number[] = [];
  const visit = (i: number): void => {
    state.set(i, 'open');
    stack.push(i);
    for (const { child, at } of edges.get(i) ?? []) {
      if (state.get(child) === 'open') {
        const cycle = [...stack.slice(stack.indexOf(child)), child];
        out.push(
          configError(
            'config.nesting-cycle',
            `nested groups form a cycle: ${cycle.map((n) => `\`${groupKeyOf(groups[n]) ?? `groups[${n}]`}\``).join(' contains ')} (a group cannot contain itself, directly or through other groups)`,
            at,
            positionOfValue(doc, locator, at),
          ),
        );
      } else if (state.get(child) === undefined) visit(child);
    }
    stack.pop();
    state.set(i, 'done');
  };
  for (const i of edges.keys()) if (state.get(i) === undefined) visit(i);
  return out;
}

export function groupKeyOf(group: unknown): string | undefined {
  const g = asObject(group);
  if (typeof g?.['key'] === 'string') return g['key'];
  return typeof g?.['name'] === 'string' ? groupSlug(g['name']) : undefined;
}

/**
 * `groups[].membershipRule` makes a dynamic group: Entra computes its members, so the rule may
 * not also pick members (`members`, `foreach`), nest groups in it (`memberGroups`, nor may it be
 * nested by another rule), or license it (`licenses`: the seat check could not count who gets
 * one). `membershipRuleProcessingState` without a rule says nothing.
 */
export function dynamicGroupDiagnostics(
  groups: readonly unknown[],
  keys: ReadonlyMap<string, number>,
  doc: Document,
  locator: SourceLocator,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const dynamic = new Set<number>();
  groups.forEach((group, i) => {
    const g = asObject(group);
    if (!g) return;
    if (g['membershipRule'] === undefined) {
      if (g['membershipRuleProcessingState'] !== undefined) {
        const at: PathSegment[] = ['groups', i, 'membershipRuleProcessingState'];
        out.push(
          configError(
            'config.dynamic-group',
            `\`groups[${i}].membershipRuleProcessingState\` needs \`membershipRule\`: only a dynamic group has a rule to process`,
            at,
            positionOfKey(doc, locator, at),
          ),
        );
      }
      return;
    }
    dynamic.add(i);
    for (const [key, why] of [
      ['members', 'Entra computes its members from the rule'],
      ['foreach', 'one rule cannot make one group per value'],
      ['memberGroups', 'a dynamic group cannot contain groups entrasync adds'],
      ['licenses', 'the seat check cannot count the members Entra will compute'],
    ] as const) {
      if (g[key] === undefined || (Array.isArray(g[key]) && g[key].length === 0)) continue;
      const at: PathSegment[] = ['groups', i, key];
      out.push(
        configError(
          'config.dynamic-group',
          `\`groups[${i}]\` is a dynamic group (\`membershipRule\`): it cannot have \`${key}\` (${why})`,
          at,
          positionOfKey(doc, locator, at),
        ),
      );
    }
  });
  groups.forEach((group, i) => {
    const list = asObject(group)?.['memberGroups'];
    if (!Array.isArray(list)) return;
    list.forEach((entry: unknown, j) => {
      const child = typeof entry === 'string' ? keys.get(entry) : undefined;
      if (child === undefined || !dynamic.has(child)) return;
      const at: PathSegment[] = ['groups', i, 'memberGroups', j];
      out.push(
        configError(
          'config.dynamic-group',
          `\`groups[${i}].memberGroups\` names \`${String(entry)}\`, a dynamic group (\`groups[${child}]\`): entrasync nests only groups whose members it keeps`,
          at,
          positionOfValue(doc, locator, at),
        ),
      );
    });
  });
  return out;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** `licenses[].group` (an existing group by id) says who gets the SKU: no `when`, no `assignBy`. */
export function existingGroupLicenseDiagnostics(
  licenses: unknown,
  doc: Document,
  locator: SourceLocator,
): Diagnostic[] {
  if (!Array.isArray(licenses)) return [];
  const out: Diagnostic[] = [];
  licenses.forEach((license: unknown, i) => {
    const l = asObject(license);
    if (l?.['group'] === undefined) return;
    for (const key of ['when', 'assignBy'] as const) {
      // `assignBy` is filled in with its default (`direct`) before these checks run.
      if (l[key] === undefined || (key === 'assignBy' && l[key] === 'direct')) continue;
      const at: PathSegment[] = ['licenses', i, key];
      out.push(
        configError(
          'config.license-group',
          `\`licenses[${i}]\` licenses the existing group \`${String(l['group'])}\`: its members get the SKU, so it cannot have \`${key}\``,
          at,
          positionOfKey(doc, locator, at),
        ),
      );
    }
  });
  return out;
}
