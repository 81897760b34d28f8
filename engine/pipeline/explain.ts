/**
 * `explain`: one person's way through the pipeline, from the same stage outputs the plan was
 * built from (never a second evaluation that could disagree with it): their source records,
 * the scope decision, each mapped value with the expression behind it, the account they matched
 * and by which rule, and the changes the plan would make for them.
 */
import { subjectOf } from '../model/plan.js';
import { identifierKey } from '../expr/normalize.js';
import type { Provenance } from '../model/person.js';
import type { BlockedChange, Change, Plan, PlanIssue } from '../model/plan.js';
import type { RecordLocation, SourceObject } from '../model/source.js';
import type { MatchRule, SyncSpec } from '../model/spec.js';
import type { Attributes } from '../model/tenant.js';
import type { Ownership } from './ownership.js';
import type { PlanStages } from './plan.js';

export type Decision = 'in-scope' | 'out-of-scope' | 'held' | 'not-found';

export interface ExplainedRecord {
  readonly source: string;
  readonly key: string;
  readonly location: RecordLocation;
  readonly fields: SourceObject;
}

export interface Explanation {
  readonly query: string;
  readonly personKey?: string;
  readonly decision: Decision;
  readonly records: readonly ExplainedRecord[];
  readonly anchor?: string;
  /** The expression of each config rule that decided something for this person. */
  readonly rules: readonly { readonly configPath: string; readonly expression: string }[];
  readonly attributes?: Attributes;
  readonly account?: {
    readonly id: string;
    readonly userPrincipalName: string;
    readonly ownership?: Ownership;
    readonly matchedBy?: MatchRule;
  };
  readonly changes: readonly Change[];
  readonly blocked: readonly BlockedChange[];
  readonly issues: readonly PlanIssue[];
}

export function explainPeople(
  queries: readonly string[],
  spec: SyncSpec,
  plan: Plan,
  stages: PlanStages,
): Explanation[] {
  return queries.map((query) => explainOne(query, spec, plan, stages));
}

function explainOne(query: string, spec: SyncSpec, plan: Plan, stages: PlanStages): Explanation {
  const personKey = resolvePersonKey(query, spec, stages);
  const rules = [
    ...(spec.users.scope ? [spec.users.scope] : []),
    spec.users.anchor,
    ...Object.values(spec.users.attributes),
  ].map((e) => ({ configPath: e.configPath, expression: e.text }));
  const empty = { query, rules, records: [], changes: [], blocked: [], issues: [] };
  if (!personKey) {
    // A UPN nobody in the sources maps to may still be an account the plan acts on (a leaver).
    const upn = query.includes('@') ? identifierKey(query) : undefined;
    const account = stages.classified.users.find((u) => identifierKey(u.userPrincipalName) === upn);
    if (!account) return { ...empty, decision: 'not-found' };
    const ownership = stages.classified.ownership.get(account.id);
    return {
      ...empty,
      decision: 'not-found',
      account: {
        id: account.id,
        userPrincipalName: account.userPrincipalName,
        ...(ownership ? { ownership } : {}),
      },
      changes: plan.changes.filter((c) => subjectOf(c).id === account.id),
      blocked: plan.blocked.filter((b) => subjectOf(b.change).id === account.id),
    };
  }

  const person = stages.joined.people.find((p) => p.key === personKey);
  const held = stages.joined.held.find((h) => h.personKey === personKey);
  const records = (person ? Object.values(person.records) : (held?.records ?? [])).map((r) => ({
    source: r.source,
    key: r.key,
    location: r.location,
    fields: r.fields,
  }));
  const desired = stages.mapped.desired.users.find((u) => u.personKey === personKey);
  const outOfScope = stages.mapped.desired.outOfScope.find((p) => p.personKey === personKey);
  const pair = stages.matched.pairs.find((p) => p.desired.personKey === personKey);
  const anchor = desired?.anchor ?? outOfScope?.anchor;
  const account =
    pair?.account ??
    (anchor !== undefined
      ? stages.classified.users.find((u) => u.attributes[spec.users.anchorAttribute] === anchor)
      : undefined);

  const primaryKeys = new Set(records.map((r) => `${r.source}:${r.key}`));
  const mentions = (provenance: readonly Provenance[]) =>
    provenance.some((p) => primaryKeys.has(`${p.source}:${p.key}`));
  const concerns = (c: Change) =>
    mentions(c.provenance) || (account !== undefined && subjectOf(c).id === account.id);
  const primaryKey = personKey.slice(spec.primarySource.length + 1);

  return {
    query,
    personKey,
    decision: desired
      ? 'in-scope'
      : outOfScope
        ? 'out-of-scope'
        : person || held
          ? 'held'
          : 'not-found',
    records,
    rules,
    ...(anchor !== undefined ? { anchor } : {}),
    ...(desired ? { attributes: desired.attributes } : {}),
    ...(account
      ? {
          account: {
            id: account.id,
            userPrincipalName: account.userPrincipalName,
            ...(stages.classified.ownership.get(account.id)
              ? { ownership: stages.classified.ownership.get(account.id) }
              : {}),
            ...(pair?.matchedBy ? { matchedBy: pair.matchedBy } : {}),
          },
        }
      : {}),
    changes: plan.changes.filter(concerns),
    blocked: plan.blocked.filter((b) => concerns(b.change)),
    issues: plan.issues.filter(
      (i) => i.key === primaryKey || i.key === personKey || i.message.includes(personKey),
    ),
  };
}

/** `hr:1001`, `1001` (a primary key) or a userPrincipalName (desired or existing). */
function resolvePersonKey(query: string, spec: SyncSpec, stages: PlanStages): string | undefined {
  const known = new Set([
    ...stages.joined.people.map((p) => p.key),
    ...stages.joined.held.map((h) => h.personKey),
  ]);
  if (known.has(query)) return query;
  const prefixed = `${spec.primarySource}:${query}`;
  if (known.has(prefixed)) return prefixed;
  if (!query.includes('@')) return undefined;
  const upn = identifierKey(query);
  const desired = stages.mapped.desired.users.find(
    (u) =>
      typeof u.attributes.userPrincipalName === 'string' &&
      identifierKey(u.attributes.userPrincipalName) === upn,
  );
  if (desired) return desired.personKey;
  const account = stages.classified.users.find((u) => identifierKey(u.userPrincipalName) === upn);
  const anchor = account?.attributes[spec.users.anchorAttribute];
  if (typeof anchor !== 'string') return undefined;
  const out = stages.mapped.desired.outOfScope.find((p) => p.anchor === anchor.trim());
  return out?.personKey;
}
