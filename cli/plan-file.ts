/**
 * Reading a plan saved by `plan --out`, for `apply` and `show`.
 */
import { readFile } from 'node:fs/promises';
import { PLAN_FORMAT_VERSION, StalePlanError } from '../engine/index.js';
import type { Plan } from '../engine/index.js';

/**
 * The plan in `path`; a StalePlanError if the file cannot be read, is not JSON, or is not a plan
 * of this format version. Only the envelope is checked: the plan's own fingerprints bind the rest.
 */
export async function readPlanFile(path: string): Promise<Plan> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new StalePlanError(
      `cannot read plan ${path}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const p = parsed as Partial<Plan> | null;
  if (
    !p ||
    typeof p !== 'object' ||
    p.formatVersion !== PLAN_FORMAT_VERSION ||
    !Array.isArray(p.changes)
  ) {
    throw new StalePlanError(`${path} is not an entrasync plan of format ${PLAN_FORMAT_VERSION}`);
  }
  return p as Plan;
}
