import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Redactor } from '../../engine/secret.js';
import { openApplyHistory } from './apply-history.js';
import { openHistoryStore } from './history-store.js';

const dir = mkdtempSync(join(tmpdir(), 'entrasync-apply-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 86_400_000;

describe('history of one `entrasync apply`', () => {
  it('prunes runs older than history.keepDays, then records this run with trigger cli', () => {
    const path = join(dir, 'keep.db');
    const old = openHistoryStore(path, new Redactor());
    old.startRun({ id: 'old', startedAt: 1, trigger: 'schedule', mode: 'apply' });
    old.startRun({ id: 'recent', startedAt: 100 * DAY - 2 * DAY, trigger: 'cli', mode: 'apply' });
    old.close();
    const history = openApplyHistory({
      path,
      redactor: new Redactor(),
      warn: () => expect.fail('no warning expected'),
      keepDays: 30,
      now: () => 100 * DAY,
    });
    history.finish({ outcome: 'no-changes' });
    history.close();
    const store = openHistoryStore(path, new Redactor(), { readonly: true });
    expect(store.runs().map((r) => [r.id, r.trigger, r.outcome])).toEqual([
      [history.runId, 'cli', 'no-changes'],
      ['recent', 'cli', null],
    ]);
    store.close();
  });

  it('a history that cannot be opened warns once and records nothing; the apply goes on', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const warnings: string[] = [];
    const history = openApplyHistory({
      path: join(blocker, 'history.db'),
      redactor: new Redactor(),
      warn: (t) => void warnings.push(t),
    });
    history.op({
      changeId: 'createUser:x',
      kind: 'createUser',
      user: { userPrincipalName: 'x@contoso.example' },
      outcome: 'applied',
    });
    history.finish({ outcome: 'applied' });
    history.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^warning: history not written to .*a-file\/history\.db: .*; the apply goes on\n$/,
    );
  });
});
