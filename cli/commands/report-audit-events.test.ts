/**
 * How Entra's audit entries become report events (report-audit.ts), over entries shaped as
 * Graph documents them, and the `$filter` the reader sends (connectors/entra/audit-log.ts).
 */
import { describe, expect, it } from 'vitest';
import type { AuditTarget, DirectoryAuditEntry } from '../../connectors/entra/index.js';
import { auditFilter } from '../../connectors/entra/index.js';
import { auditEvent } from './report-audit.js';

const E3 = '05e9a617-0261-4cee-bb44-138d3ef5d965';
const E5 = '06ebc4ee-1bb5-47dd-8120-11324bc54e06';

function user(upn: string, modified: [string, string, string][] = []): AuditTarget {
  return {
    id: `id-${upn}`,
    type: 'User',
    displayName: null,
    userPrincipalName: upn,
    modifiedProperties: modified.map(([displayName, oldValue, newValue]) => ({
      displayName,
      oldValue,
      newValue,
    })),
  };
}

function entry(
  activityDisplayName: string,
  targets: AuditTarget[],
  extra: Partial<DirectoryAuditEntry> = {},
): DirectoryAuditEntry {
  return {
    id: 'Directory_1',
    activityDisplayName,
    activityTime: Date.parse('2026-03-01T08:00:00Z'),
    category: 'UserManagement',
    correlationId: 'c0ffee00-0000-4000-8000-000000000001',
    result: 'success',
    resultReason: '',
    appId: 'app',
    targets,
    ...extra,
  };
}

describe('audit entries as report events', () => {
  it('maps Entra activity names to change kinds, with the subject and what changed', () => {
    const [created] = auditEvent(entry('Add user', [user('ada@contoso.com')]));
    expect(created).toMatchObject({
      time: '2026-03-01T08:00:00.000Z',
      action: 'createUser',
      outcome: 'applied',
      userPrincipalName: 'ada@contoso.com',
      userId: 'id-ada@contoso.com',
      runId: 'c0ffee00-0000-4000-8000-000000000001',
      mode: 'audit',
      people: [],
    });
    const [updated] = auditEvent(
      entry('Update user', [
        user('ada@contoso.com', [
          ['DisplayName', '["Ada"]', '["Ada Lovelace"]'],
          ['Included Updated Properties', '', '"DisplayName"'],
        ]),
      ]),
    );
    expect(updated).toMatchObject({ action: 'updateUser', message: 'Update user: DisplayName' });
    const group = { ...user('x'), type: 'Group', displayName: 'Staff', userPrincipalName: null };
    const [added] = auditEvent(entry('Add member to group', [user('bob@contoso.com'), group]));
    expect(added).toMatchObject({
      action: 'addMembers',
      userPrincipalName: 'bob@contoso.com',
      message: 'Add member to group: Staff',
    });
    const [groupCreated] = auditEvent(entry('Add group', [group]));
    expect(groupCreated).toMatchObject({ action: 'createGroup', userPrincipalName: 'Staff' });
  });

  it('a disable is one event: the "Update user" that only changed AccountEnabled is folded into "Disable account"', () => {
    const enabled: [string, string, string] = ['AccountEnabled', '[true]', '[false]'];
    expect(auditEvent(entry('Update user', [user('bob@contoso.com', [enabled])]))).toEqual([]);
    expect(
      auditEvent(
        entry('Update user', [
          user('bob@contoso.com', [enabled, ['Included Updated Properties', '', 'AccountEnabled']]),
        ]),
      ),
    ).toEqual([]);
    expect(auditEvent(entry('Disable account', [user('bob@contoso.com', [enabled])]))).toEqual([
      expect.objectContaining({ action: 'disableUser', userPrincipalName: 'bob@contoso.com' }),
    ]);
  });

  it('license changes that drop a SKU are removals; failures carry the result; unknown activities are left out', () => {
    const license = (before: string[], after: string[]) =>
      auditEvent(
        entry('Change user license', [
          user('ada@contoso.com', [
            ['assignedLicenses', JSON.stringify(before), JSON.stringify(after)],
          ]),
        ]),
      )[0]?.action;
    expect(license([], [E3])).toBe('assignLicenses');
    expect(license([E3, E5], [E3])).toBe('removeLicenses');
    const [failed] = auditEvent(
      entry('Add user', [user('ada@contoso.com')], { result: 'failure', resultReason: 'conflict' }),
    );
    expect(failed).toMatchObject({
      outcome: 'failed',
      errorCode: 'failure',
      errorMessage: 'conflict',
    });
    expect(auditEvent(entry('Reset user password', [user('ada@contoso.com')]))).toEqual([]);
  });

  it("filters the audit log on Graph's documented clauses, the span rounded outwards to the second", () => {
    expect(
      auditFilter({
        appId: "a'b",
        since: Date.parse('2026-03-01T08:00:00.900Z'),
        until: Date.parse('2026-03-02T08:00:00.100Z'),
      }),
    ).toBe(
      "activityDateTime ge 2026-03-01T08:00:00Z and activityDateTime le 2026-03-02T08:00:01Z and initiatedBy/app/appId eq 'a''b'",
    );
    expect(auditFilter({ appId: 'app' })).toBe("initiatedBy/app/appId eq 'app'");
  });
});
