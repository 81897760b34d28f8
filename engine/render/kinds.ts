/** How each change kind is named and detailed in every rendering (text, markdown, explain). */
import type {
  Change,
  ChangeKind,
  ChangeReason,
  LicenseRef,
  OnboardUserChange,
} from '../model/plan.js';
import type { AttributeValue } from '../model/tenant.js';

/** Kinds in the order plans list them, with their symbol, verb and title. */
export const KIND_LABELS: Readonly<
  Record<ChangeKind, { readonly symbol: string; readonly verb: string; readonly title: string }>
> = {
  createUser: { symbol: '+', verb: 'create', title: 'Create' },
  restoreUser: { symbol: '+', verb: 'restore', title: 'Restore' },
  adoptUser: { symbol: '&', verb: 'adopt', title: 'Adopt' },
  updateUser: { symbol: '~', verb: 'update', title: 'Update' },
  enableUser: { symbol: '^', verb: 'enable', title: 'Enable' },
  createGroup: { symbol: '+', verb: 'create group', title: 'Create group' },
  updateGroup: { symbol: '~', verb: 'update group', title: 'Update group' },
  assignGroupLicenses: { symbol: '+', verb: 'license group', title: 'License group' },
  setManager: { symbol: '~', verb: 'set manager', title: 'Set manager' },
  assignLicenses: { symbol: '+', verb: 'license', title: 'Assign licenses' },
  addMembers: { symbol: '+', verb: 'add members', title: 'Add members' },
  removeMembers: { symbol: '-', verb: 'remove members', title: 'Remove members' },
  addOwners: { symbol: '+', verb: 'add owners', title: 'Add owners' },
  removeOwners: { symbol: '-', verb: 'remove owners', title: 'Remove owners' },
  removeLicenses: { symbol: '-', verb: 'unlicense', title: 'Remove licenses' },
  removeGroupLicenses: { symbol: '-', verb: 'unlicense group', title: 'Unlicense group' },
  disableUser: { symbol: '-', verb: 'disable', title: 'Disable' },
  deleteUser: { symbol: '-', verb: 'delete', title: 'Delete' },
  revokeSessions: { symbol: '-', verb: 'revoke sessions', title: 'Revoke sessions' },
  onboardUser: { symbol: '>', verb: 'onboard', title: 'Onboard' },
};

export const KINDS_IN_ORDER = Object.keys(KIND_LABELS) as ChangeKind[];

export const REASON_LABELS: Readonly<Record<ChangeReason, string>> = {
  'new-person': 'new person',
  adopt: 'adopt existing account',
  'attribute-drift': 'attribute drift',
  'source-status': 'source status',
  'left-source': 'left the sources',
  'left-scope': 'left the scope',
  rehire: 'returned',
  'group-rule': 'group rule',
  'license-rule': 'license rule',
  manager: 'manager',
  'grace-elapsed': 'grace period elapsed',
  'claim-legacy': 'legacy marker claimed',
  onboarding: 'new hire onboarding',
};

export function licenseText(l: LicenseRef): string {
  return l.disabledPlans.length > 0
    ? `${l.skuPartNumber} (without ${l.disabledPlans.join(', ')})`
    : l.skuPartNumber;
}

/**
 * The lines under a change's headline: attributes set, members, licenses. `show` formats a
 * value and `arrow` joins before and after, so each renderer keeps its own look.
 */
export function detailLines(
  change: Change,
  show: (value: AttributeValue) => string,
  arrow: string,
): string[] {
  switch (change.kind) {
    case 'createUser':
      return Object.entries(change.attributes)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([attribute, value]) => `${attribute}: ${show(value)}`);
    case 'updateUser':
    case 'adoptUser':
    case 'updateGroup':
      return change.set.map((c) => `${c.attribute}: ${show(c.before)} ${arrow} ${show(c.after)}`);
    case 'enableUser':
    case 'disableUser':
      return [
        change.message,
        ...(change.stateAttribute === undefined
          ? []
          : [
              `${change.stateAttribute}: ${change.kind === 'disableUser' ? 'the time of the apply (the disable date stages count from)' : 'cleared'}`,
            ]),
        ...(change.revokeSessions ? ['and revoke sign-in sessions'] : []),
      ];
    case 'deleteUser':
    case 'restoreUser':
    case 'revokeSessions':
      return [change.message];
    case 'setManager':
      return [`manager: ${change.manager.userPrincipalName}`];
    case 'onboardUser':
      return onboardingLines(change);
    case 'assignLicenses':
    case 'removeLicenses':
    case 'assignGroupLicenses':
    case 'removeGroupLicenses':
      return change.licenses.map(licenseText);
    case 'createGroup':
      return [
        `uniqueName: ${change.group.uniqueName}`,
        `type: ${change.properties.groupTypes.includes('Unified') ? 'Microsoft 365' : 'security'}${change.properties.membershipRule === undefined ? '' : ', dynamic'}`,
        ...(change.properties.membershipRule === undefined
          ? []
          : [
              `membershipRule: ${show(change.properties.membershipRule)}`,
              `membershipRuleProcessingState: ${show(change.properties.membershipRuleProcessingState ?? 'On')}`,
            ]),
        ...(change.properties.description === null
          ? []
          : [`description: ${show(change.properties.description)}`]),
      ];
    case 'addOwners':
    case 'removeOwners':
      return [change.owners.map((o) => o.userPrincipalName).join(', ')];
    case 'addMembers':
    case 'removeMembers':
      return [
        [
          ...change.members.map((m) => m.userPrincipalName),
          ...(change.memberGroups ?? []).map((g) => `group ${g.displayName}`),
        ].join(', '),
      ];
  }
}

/** What an onboarding step makes and whom it reaches; never the credential (there is none yet). */
export function onboardingLines(change: OnboardUserChange): string[] {
  const what =
    change.credential === 'tap'
      ? `Temporary Access Pass, ${lifetimeText(change.tap?.lifetimeInMinutes ?? 0)}${change.tap?.isUsableOnce ? ', usable once' : ''}, valid from ${change.tap?.startDateTime ?? (change.tap?.startPassed ? `when it is made (valid at once: start ${change.tap.startPassed} is not in the future)` : 'when it is made')}`
      : 'new random password, to be changed at first sign-in';
  return [
    ...(change.user.id === undefined
      ? []
      : ['the account still awaits its credential (none was delivered): a new one is made']),
    `credential: ${what}`,
    `delivered by ${change.delivery.channel} to ${change.delivery.recipient} (${change.delivery.to})`,
  ];
}

function lifetimeText(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440} day(s)`;
  if (minutes % 60 === 0) return `${minutes / 60} hour(s)`;
  return `${minutes} minute(s)`;
}
