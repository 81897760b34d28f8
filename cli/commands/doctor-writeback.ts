/**
 * `doctor`'s write-back check (issue 26): for each `writeback.<source>`, whether its write
 * credentials are set here and work (the bind; on Active Directory, whether the bind may write
 * the fields on a record the plan would write), without writing anything. Missing credentials
 * are a warning, not a failure: plans never need them, and a CI plan job may not have them.
 */
import type { Plan } from '../../engine/index.js';
import type { Runtime } from '../runtime.js';
import type { DoctorFinding } from './doctor-checks.js';

export async function writebackFindings(runtime: Runtime, plan: Plan): Promise<DoctorFinding[]> {
  const findings: DoctorFinding[] = [];
  for (const spec of runtime.loaded.spec.writeback ?? []) {
    const writer = runtime.sourceWriter?.(spec.source);
    if (!writer) continue;
    const planned = [
      ...(plan.writebacks?.changes ?? []),
      ...(plan.writebacks?.blocked ?? []).map((b) => b.change),
    ];
    const sample = planned.find((c) => c.source === spec.source)?.record;
    try {
      const result = await writer.check(
        spec.attributes.map((a) => a.field),
        sample,
      );
      findings.push({
        check: 'writeback',
        status: result.status,
        message: `writeback.${spec.source}: ${result.message}`,
        ...(result.status === 'ok'
          ? {}
          : {
              hint:
                result.status === 'warn'
                  ? 'set the write credentials where `entrasync apply` runs'
                  : `grant the write bind write access to ${spec.attributes.map((a) => a.field).join(', ')}`,
            }),
      });
    } finally {
      await writer.close();
    }
  }
  return findings;
}
