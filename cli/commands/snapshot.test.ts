/**
 * `entrasync snapshot` and `plan --tenant-snapshot` through the real runtime (embedded simulator
 * over HTTPS, CSV source): offline plans are byte-identical to each other and to the live plan
 * of the same moment, need no Graph credentials, and applying one still re-reads the live tenant.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyRun, planRun, renderPlanJson, StalePlanError } from '../../engine/index.js';
import type { Plan } from '../../engine/index.js';
import { Redactor } from '../../engine/secret.js';
import { tempCopyOfQuickstart } from '../daemon/test-helpers.js';
import { openRuntime } from '../runtime.js';
import { runPlanWithSnapshot, runSnapshot } from './snapshot.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    output: { out: (t: string) => (out.stdout += t), err: (t: string) => (out.stderr += t) },
  };
}

describe('tenant snapshots: offline, deterministic plans', () => {
  it('snapshot -> plan --tenant-snapshot is byte-identical twice and to the live plan; apply re-reads the tenant (A2)', async () => {
    const work = tempCopyOfQuickstart();
    const config = join(work, 'entrasync.yaml');
    const snapshotFile = join(work, 'tenant-snapshot.json');

    const runtime = await openRuntime(config, new Redactor(), {});
    let livePlan: string;
    try {
      const taken = capture();
      expect(await runSnapshot(runtime, { out: snapshotFile }, taken.output)).toBe(0);
      expect(taken.out.stdout).toMatch(/Saved tenant snapshot [0-9a-f]{12} to .*: 53 user\(s\)/);
      livePlan = renderPlanJson(
        await planRun(runtime.loaded.spec, {
          sources: runtime.sources,
          target: runtime.target.reader,
        }),
      );
    } finally {
      await runtime.close();
    }

    const first = capture();
    const second = capture();
    const planFile = join(work, 'offline-plan.json');
    expect(
      await runPlanWithSnapshot(
        config,
        snapshotFile,
        { format: 'json', out: planFile },
        first.output,
        new Redactor(),
        {},
      ),
    ).toBe(2);
    expect(
      await runPlanWithSnapshot(
        config,
        snapshotFile,
        { format: 'json' },
        second.output,
        new Redactor(),
        {},
      ),
    ).toBe(2);
    expect(first.out.stdout).toBe(second.out.stdout);
    expect(first.out.stdout).toBe(livePlan);
    expect(readFileSync(planFile, 'utf8')).toBe(livePlan);

    // The reviewed offline plan applies against the live tenant it describes, exactly once.
    const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
    const live = await openRuntime(config, new Redactor(), {});
    try {
      const io = { target: live.target.reader, writer: live.target.writer };
      const report = await applyRun(plan, live.loaded.spec, io);
      expect(report.ops.filter((op) => op.outcome === 'applied')).toHaveLength(10);
      // The tenant moved since the snapshot: the same plan is now refused.
      await expect(applyRun(plan, live.loaded.spec, io)).rejects.toBeInstanceOf(StalePlanError);
    } finally {
      await live.close();
    }
    // The snapshot still replays the original plan exactly.
    const replay = capture();
    await runPlanWithSnapshot(
      config,
      snapshotFile,
      { format: 'json' },
      replay.output,
      new Redactor(),
      {},
    );
    expect(replay.out.stdout).toBe(livePlan);
  });

  it('plans from a snapshot with no Graph credentials (a pull request from a fork)', async () => {
    const work = tempCopyOfQuickstart();
    const snapshotFile = join(work, 'tenant-snapshot.json');
    const runtime = await openRuntime(join(work, 'entrasync.yaml'), new Redactor(), {});
    try {
      await runSnapshot(runtime, { out: snapshotFile }, capture().output);
    } finally {
      await runtime.close();
    }
    const fork = join(work, 'fork.yaml');
    writeFileSync(
      fork,
      readFileSync(join(work, 'entrasync.yaml'), 'utf8').replace(
        /target:\n(?: {2}.*\n)+/,
        [
          'target:',
          '  auth: { method: secret, clientSecret: "${env:ENTRA_CLIENT_SECRET}" }',
          '  tenantId: contoso.onmicrosoft.com',
          '  clientId: 00000000-0000-0000-0000-000000000001',
          '',
        ].join('\n'),
      ),
    );
    const r = capture();
    expect(
      await runPlanWithSnapshot(
        fork,
        snapshotFile,
        { format: 'markdown' },
        r.output,
        new Redactor(),
        {},
      ),
    ).toBe(2);
    expect(r.out.stdout).toContain('| Create | 4 |');
  });
});
