/**
 * Plan, apply and re-plan through the CLI runtime (the real connectors, the real Graph SDK
 * against whatever the config targets), with the plan's clock at a given instant: the loop the
 * scenario and example tests run to show a config converges (A4).
 */
import { expect } from 'vitest';
import { openRuntime } from '../../cli/runtime.js';
import { applyRun, planRun } from '../../engine/index.js';
import type { Change, Plan } from '../../engine/model/plan.js';
import { subjectOf } from '../../engine/model/plan.js';
import { Redactor } from '../../engine/secret.js';

/** A plan made through the CLI runtime with the clock at `now` (grace periods). */
export async function planAt(config: string, now: number): Promise<Plan> {
  const runtime = await openRuntime(config, new Redactor());
  try {
    return await planRun(
      runtime.loaded.spec,
      { sources: runtime.sources, target: runtime.target.reader },
      { now },
    );
  } finally {
    await runtime.close();
  }
}

/**
 * Plans at `now`, applies every change (none blocked, none failed), re-plans at `now` and
 * expects nothing left; returns the applied plan.
 */
export async function convergeAt(config: string, now: number): Promise<Plan> {
  const runtime = await openRuntime(config, new Redactor());
  let first: Plan;
  try {
    first = await planRun(
      runtime.loaded.spec,
      { sources: runtime.sources, target: runtime.target.reader },
      { now },
    );
    expect(first.blocked.map((b) => `${b.code}: ${b.message}`)).toEqual([]);
    const report = await applyRun(first, runtime.loaded.spec, {
      target: runtime.target.reader,
      writer: runtime.target.writer,
    });
    expect(report.ops.filter((op) => op.outcome !== 'applied')).toEqual([]);
  } finally {
    await runtime.close();
  }
  const again = await planAt(config, now);
  expect(again.changes.map(label)).toEqual([]);
  expect(again.blocked).toEqual([]);
  return first;
}

/** `<kind> <upn or group name>`, e.g. `disableUser carol.white@contoso.com`. */
export function label(c: Change): string {
  return `${c.kind} ${subjectOf(c).userPrincipalName}`;
}
