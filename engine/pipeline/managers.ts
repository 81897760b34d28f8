/**
 * Managers (`users.manager`): each person's manager is the account of the person the primary
 * source names by key. A manager who is not a person with an account of this config, or a
 * person named as their own manager, is a warning and the manager is left as it is.
 */
import type { AccessContext, Findings } from './access-model.js';
import { userRefOf } from './access-model.js';

/** `setManager` for each person whose account's manager is not the one the source names. */
export function managerChanges(
  out: Findings,
  context: Pick<AccessContext, 'spec' | 'users' | 'ordered' | 'accounts' | 'accountById'>,
): void {
  const { spec } = context;
  const rule = spec.users.manager;
  if (!rule) return;
  const byPersonKey = new Map(context.users.map((u) => [u.personKey, u]));
  for (const user of context.ordered) {
    if (user.managerKey === undefined) continue;
    const account = context.accounts.get(user);
    if (!account) continue;
    const managerPerson = byPersonKey.get(`${spec.primarySource}:${user.managerKey}`);
    const manager = managerPerson ? context.accounts.get(managerPerson) : undefined;
    if (!managerPerson || !manager) {
      out.warnings.push({
        code: 'manager.unknown',
        message: `${user.personKey}: manager ${user.managerKey} (${rule.configPath}) is not a person with an account managed by this config; the manager is left as it is`,
        subject: account.userPrincipalName,
      });
      continue;
    }
    if (managerPerson === user) {
      out.warnings.push({
        code: 'manager.self',
        message: `${user.personKey} is their own manager (${rule.configPath}); not set`,
        subject: account.userPrincipalName,
      });
      continue;
    }
    const currentId =
      account.id !== undefined ? context.accountById(account.id)?.managerId : undefined;
    if (manager.id !== undefined && manager.id === currentId) continue;
    out.changes.push({
      id: `setManager:${account.id ?? account.userPrincipalName.toLowerCase()}`,
      kind: 'setManager',
      reason: 'manager',
      rule: rule.configPath,
      message: `set the manager of ${account.userPrincipalName} to ${manager.userPrincipalName}`,
      user: userRefOf(account),
      manager: userRefOf(manager),
      provenance: user.provenance,
      ...(account.createdBy ? { requires: [account.createdBy] } : {}),
    });
  }
}
