/**
 * What the app may do, read from its own access token (the `roles` claim of an app-only token
 * holds its application permissions; `wids` its directory roles), checked against what the
 * run needs before anything is planned (catalogue X5):
 * - a missing permission is "missing permission X for action Y", before planning or writing;
 * - excess privilege (Directory.ReadWrite.All, RoleManagement.ReadWrite.Directory, any
 *   directory role) is a warning, or a refusal when the config says so. With app-only `User.*`
 *   permissions Graph itself refuses to change or delete privileged admins: a backstop that a
 *   directory role or Directory.ReadWrite.All would remove.
 *
 * The table is the least-privilege list of the test catalogue (4.1); README "Microsoft Graph
 * permissions" shows the same per feature. The token is decoded, never verified (Graph verifies
 * it) and never logged.
 */
import type { TokenCredential } from '@azure/identity';
import type { Change, ChangeKind } from '../../engine/model/plan.js';
import type { TenantReadRequest } from '../../engine/model/tenant.js';
import { graphScope } from './graph-client.js';

export type EntraAction =
  | 'read users'
  | 'find privileged users'
  | 'create users'
  | 'update users'
  | 'enable and disable users'
  | 'delete and restore users'
  | 'create groups'
  | 'manage group members'
  | 'manage group owners'
  | 'assign licenses'
  | 'assign group licenses'
  | 'read license seats'
  | 'read verified domains'
  | 'read directory extensions'
  | 'set managers'
  | 'revoke sessions'
  | 'read the audit log'
  | 'issue temporary access passes'
  | 'reset passwords'
  | 'send mail'
  | 'read authentication methods policy';

/** Each action: alternative permission sets, least privileged first; any one set suffices. */
export const ACTION_PERMISSIONS: Readonly<Record<EntraAction, readonly (readonly string[])[]>> = {
  'read users': [
    ['User.Read.All'],
    ['User.ReadWrite.All'],
    ['Directory.Read.All'],
    ['Directory.ReadWrite.All'],
  ],
  'find privileged users': [
    ['RoleManagement.Read.Directory'],
    ['RoleManagement.Read.All'],
    ['RoleManagement.ReadWrite.Directory'],
    ['Directory.Read.All'],
    ['Directory.ReadWrite.All'],
  ],
  'create users': [['User.ReadWrite.All'], ['Directory.ReadWrite.All']],
  'update users': [['User.ReadWrite.All'], ['Directory.ReadWrite.All']],
  'enable and disable users': [
    ['User.EnableDisableAccount.All', 'User.Read.All'],
    ['User.ReadWrite.All'],
    ['Directory.ReadWrite.All'],
  ],
  'delete and restore users': [['User.DeleteRestore.All'], ['Directory.ReadWrite.All']],
  'create groups': [['Group.Create'], ['Group.ReadWrite.All'], ['Directory.ReadWrite.All']],
  'manage group members': [
    ['GroupMember.ReadWrite.All'],
    ['Group.ReadWrite.All'],
    ['Directory.ReadWrite.All'],
  ],
  // `POST /groups/{id}/owners/$ref` and its DELETE: Group.ReadWrite.All is the least
  // privileged application permission (GroupMember.ReadWrite.All does not cover owners).
  'manage group owners': [['Group.ReadWrite.All'], ['Directory.ReadWrite.All']],
  'assign licenses': [
    ['LicenseAssignment.ReadWrite.All'],
    ['User.ReadWrite.All'],
    ['Directory.ReadWrite.All'],
  ],
  // group: assignLicense accepts no user permission: LicenseAssignment.ReadWrite.All or a
  // directory-wide write.
  'assign group licenses': [['LicenseAssignment.ReadWrite.All'], ['Directory.ReadWrite.All']],
  'set managers': [['User.ReadWrite.All'], ['Directory.ReadWrite.All']],
  'revoke sessions': [
    ['User.RevokeSessions.All'],
    ['User.ReadWrite.All'],
    ['Directory.ReadWrite.All'],
  ],
  // users.onboarding (issue 23): the new hire's first credential and its delivery.
  'issue temporary access passes': [['UserAuthenticationMethod.ReadWrite.All']],
  'reset passwords': [
    ['User-PasswordProfile.ReadWrite.All'],
    ['User.ReadWrite.All'],
    ['Directory.ReadWrite.All'],
  ],
  'send mail': [['Mail.Send']],
  'read authentication methods policy': [
    ['Policy.Read.All'],
    ['Policy.ReadWrite.AuthenticationMethod'],
  ],
  // `report --audit` only: Entra's directory audit log (connectors/entra/audit-log.ts).
  'read the audit log': [['AuditLog.Read.All']],
  'read license seats': [
    ['Organization.Read.All'],
    ['Directory.Read.All'],
    ['Directory.ReadWrite.All'],
  ],
  // Optional: without it the plan skips the verified-domain check of userPrincipalName and
  // mail with a warning (`domains.unreadable`), it does not stop.
  'read verified domains': [
    ['Domain.Read.All'],
    ['Domain.ReadWrite.All'],
    ['Directory.Read.All'],
    ['Directory.ReadWrite.All'],
  ],
  // Mapped directory extensions (`extension_<appId>_<name>`) are checked and typed against the
  // application's `extensionProperties` (connectors/entra/extension-properties.ts).
  'read directory extensions': [
    ['Application.Read.All'],
    ['Application.ReadWrite.OwnedBy'],
    ['Application.ReadWrite.All'],
    ['Directory.Read.All'],
    ['Directory.ReadWrite.All'],
  ],
};

export const ACTION_OF_CHANGE: Readonly<Record<ChangeKind, EntraAction>> = {
  createUser: 'create users',
  adoptUser: 'update users',
  updateUser: 'update users',
  enableUser: 'enable and disable users',
  disableUser: 'enable and disable users',
  deleteUser: 'delete and restore users',
  restoreUser: 'delete and restore users',
  setManager: 'set managers',
  assignLicenses: 'assign licenses',
  removeLicenses: 'assign licenses',
  createGroup: 'create groups',
  updateGroup: 'create groups',
  addMembers: 'manage group members',
  removeMembers: 'manage group members',
  addOwners: 'manage group owners',
  removeOwners: 'manage group owners',
  assignGroupLicenses: 'assign group licenses',
  removeGroupLicenses: 'assign group licenses',
  revokeSessions: 'revoke sessions',
  onboardUser: 'issue temporary access passes',
};

/** Permissions broader than entrasync ever needs. */
export const EXCESS_PERMISSIONS: readonly string[] = [
  'Directory.ReadWrite.All',
  'RoleManagement.ReadWrite.Directory',
  'Application.ReadWrite.All',
  'AppRoleAssignment.ReadWrite.All',
];

// The "User" directory role every principal's token may list in `wids`; not a privilege.
const DEFAULT_USER_ROLE_TEMPLATE = 'b79fbf4d-3ef9-4689-8143-76b194e85509';

export interface GrantedAccess {
  /** Application permissions (`roles` claim). */
  readonly roles: readonly string[];
  /** Directory role template ids held by the app (`wids` claim), the default user role excluded. */
  readonly directoryRoles: readonly string[];
}

export interface AccessFinding {
  readonly code: 'permission.missing' | 'permission.excess' | 'permission.directory-role';
  readonly message: string;
  readonly action?: EntraAction;
}

/** Reads the app's granted roles from a fresh token of `credential` for Graph at `graphUrl`. */
export async function readGrantedAccess(
  credential: TokenCredential,
  graphUrl: string,
): Promise<GrantedAccess> {
  const token = await credential.getToken(graphScope(graphUrl));
  if (token === null) throw new Error('no access token for Microsoft Graph');
  return grantedAccessOf(token.token);
}

export function grantedAccessOf(accessToken: string): GrantedAccess {
  const payload = accessToken.split('.')[1];
  let claims: { roles?: unknown; wids?: unknown } = {};
  try {
    claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as typeof claims;
  } catch {
    // Not a JWT (an opaque token): nothing can be told; every check reports "missing".
  }
  const strings = (v: unknown): string[] =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  return {
    roles: strings(claims.roles),
    directoryRoles: strings(claims.wids).filter((w) => w !== DEFAULT_USER_ROLE_TEMPLATE),
  };
}

/**
 * The application (client) id an app-only access token was issued to: `appid` (v1 tokens, as
 * Graph's are) or `azp` (v2). Undefined for a token that is not a readable JWT.
 */
export function appIdOf(accessToken: string): string | undefined {
  try {
    const claims = JSON.parse(
      Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as { appid?: unknown; azp?: unknown };
    const id = claims.appid ?? claims.azp;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Missing permissions for `actions`, and excess privilege, as findings. */
export function checkAccess(
  granted: GrantedAccess,
  actions: Iterable<EntraAction>,
): AccessFinding[] {
  const findings: AccessFinding[] = [];
  const held = new Set(granted.roles);
  for (const action of new Set(actions)) {
    const options = ACTION_PERMISSIONS[action];
    if (options.some((set) => set.every((p) => held.has(p)))) continue;
    const least = options[0] ?? [];
    findings.push({
      code: 'permission.missing',
      action,
      message: `missing permission ${least.join(' + ')} for action "${action}" (the app holds: ${granted.roles.length > 0 ? granted.roles.join(', ') : 'no application permissions'})`,
    });
  }
  for (const permission of EXCESS_PERMISSIONS) {
    if (!held.has(permission)) continue;
    findings.push({
      code: 'permission.excess',
      message: `the app holds ${permission}, more than entrasync needs: grant the least-privileged permissions instead (README "Microsoft Graph permissions")`,
    });
  }
  if (granted.directoryRoles.length > 0) {
    findings.push({
      code: 'permission.directory-role',
      message: `the app holds ${granted.directoryRoles.length} directory role(s) (${granted.directoryRoles.join(', ')}); entrasync needs none, and without one Graph refuses app-only changes to admins`,
    });
  }
  return findings;
}

/** The Graph actions one change needs: its kind's, and revoking sessions with such a disable. */
export function actionsOfChange(change: Change): EntraAction[] {
  if (change.kind === 'onboardUser') {
    return [
      change.credential === 'tap' ? 'issue temporary access passes' : 'reset passwords',
      ...(change.delivery.channel === 'email' ? (['send mail'] as const) : []),
    ];
  }
  const action = ACTION_OF_CHANGE[change.kind];
  return change.kind === 'disableUser' && change.revokeSessions === true
    ? [action, 'revoke sessions']
    : [action];
}

/** The Graph actions a tenant read needs (every plan and every apply reads the tenant). */
export function actionsOfRead(request: TenantReadRequest): EntraAction[] {
  return [
    'read users',
    'find privileged users',
    ...(request.licenses === true ? (['read license seats'] as const) : []),
    ...(request.domains === true ? (['read verified domains'] as const) : []),
    ...(request.extensionApps !== undefined && request.extensionApps.length > 0
      ? (['read directory extensions'] as const)
      : []),
    ...(request.onboarding?.credential === 'tap'
      ? (['read authentication methods policy'] as const)
      : []),
  ];
}

/** Whose permissions a plan's access check is about. */
export type AccessSubject =
  /** The identity the plan ran as, read from its token. */
  | 'this identity'
  /** The apply identity, as `plan --apply-roles` lists its application permissions. */
  | 'the apply identity';

/** A permission finding of `plan`, as one of the plan's warnings. */
export interface PlanAccessWarning {
  readonly code: AccessFinding['code'];
  readonly message: string;
  /** The action a missing permission is for. */
  readonly subject?: string;
}

/**
 * Permission warnings for a plan (X4, X5): each action the plan's changes (and its tenant read)
 * need that `granted` cannot do is "missing permission X for action Y (N changes)"; excess
 * privilege and directory roles are warnings too. `subject` says whose permissions `granted`
 * holds, for the messages: in CI the plan usually runs as a read-only identity while apply
 * runs as another, so a finding about this identity's token may be expected there.
 */
/** Each action a plan needs, with how many of its changes need it (0: the read does). */
export function neededActions(
  changes: readonly Change[],
  read: TenantReadRequest,
): ReadonlyMap<EntraAction, number> {
  const needed = new Map<EntraAction, number>();
  for (const action of actionsOfRead(read)) needed.set(action, 0);
  for (const change of changes) {
    for (const action of actionsOfChange(change)) needed.set(action, (needed.get(action) ?? 0) + 1);
  }
  return needed;
}

/** `needed` is `neededActions` of the plan, counted once for every identity checked. */
export function planAccessWarnings(
  granted: GrantedAccess,
  subject: AccessSubject,
  needed: ReadonlyMap<EntraAction, number>,
  options: { readonly checkMissing?: boolean; readonly refuseExcess?: boolean } = {},
): PlanAccessWarning[] {
  // In the table's order, whatever the order of the changes.
  const actions = (Object.keys(ACTION_PERMISSIONS) as EntraAction[]).filter((a) => needed.has(a));
  const who = subject === 'this identity' ? 'the identity this plan ran as' : 'the apply identity';
  const holds = `${who} holds ${granted.roles.length > 0 ? granted.roles.join(', ') : 'no application permissions'}`;
  const warnings: PlanAccessWarning[] = [];
  for (const finding of checkAccess(granted, actions)) {
    if (finding.code === 'permission.missing') {
      if (options.checkMissing === false || finding.action === undefined) continue;
      const action = finding.action;
      const n = needed.get(action) ?? 0;
      const least = ACTION_PERMISSIONS[action][0] ?? [];
      const needs = n > 0 ? `${n} change${n === 1 ? '' : 's'}` : 'every run reads it';
      const consequence =
        action === 'find privileged users'
          ? '; admins cannot be told apart, so apply touches none of them'
          : action === 'read verified domains'
            ? '; the verified-domain check is skipped'
            : '';
      const hint =
        subject === 'this identity' && n > 0
          ? '; if apply runs as another identity, pass its permissions as --apply-roles'
          : '';
      warnings.push({
        code: finding.code,
        subject: action,
        message: `missing permission ${least.join(' + ')} for action "${action}" (${needs}): ${holds}${consequence}${hint}`,
      });
      continue;
    }
    const refusal = options.refuseExcess === true ? ' (apply refuses: target.excessPrivilege)' : '';
    warnings.push({ code: finding.code, message: `${who}: ${finding.message}${refusal}` });
  }
  return warnings;
}

/**
 * `--apply-roles User.ReadWrite.All,User.DeleteRestore.All`: application permission names,
 * comma-separated. Throws on an empty list or a name that cannot be a permission.
 */
export function parseRoleList(value: string): string[] {
  const roles = [
    ...new Set(
      value
        .split(',')
        .map((r) => r.trim())
        .filter((r) => r !== ''),
    ),
  ];
  const bad = roles.find((r) => !/^[A-Za-z][A-Za-z0-9.-]*$/.test(r));
  if (roles.length === 0 || bad !== undefined) {
    throw new Error(
      `expected application permission names separated by commas (e.g. User.ReadWrite.All,User.DeleteRestore.All)${bad === undefined ? '' : `, not "${bad}"`}`,
    );
  }
  return roles;
}
