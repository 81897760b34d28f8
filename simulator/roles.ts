/**
 * Built-in Microsoft Entra roles the simulator knows by name, so seeds can say
 * `"role": "Global Administrator"`. Ids are the roles' template ids, which are the same in every
 * tenant (Entra built-in roles reference).
 */

export interface BuiltInRole {
  readonly id: string;
  readonly displayName: string;
  readonly isPrivileged: boolean;
}

export const BUILT_IN_ROLES: readonly BuiltInRole[] = [
  {
    id: '62e90394-69f5-4237-9190-012177145e10',
    displayName: 'Global Administrator',
    isPrivileged: true,
  },
  {
    id: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
    displayName: 'Privileged Role Administrator',
    isPrivileged: true,
  },
  {
    id: '7be44c8a-adaf-4e2a-84d6-ab2649e08a13',
    displayName: 'Privileged Authentication Administrator',
    isPrivileged: true,
  },
  {
    id: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
    displayName: 'User Administrator',
    isPrivileged: true,
  },
  {
    id: 'c4e39bd9-1100-46d3-8c65-fb160da0071f',
    displayName: 'Authentication Administrator',
    isPrivileged: true,
  },
  {
    id: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
    displayName: 'Helpdesk Administrator',
    isPrivileged: true,
  },
  {
    id: '194ae4cb-b126-40b2-bd5b-6091b380977d',
    displayName: 'Security Administrator',
    isPrivileged: true,
  },
  {
    id: 'fdd7a751-b60b-444a-984c-02652fe8fa1c',
    displayName: 'Groups Administrator',
    isPrivileged: false,
  },
  {
    id: '29232cdf-9323-42fd-ade2-1d097af3e4de',
    displayName: 'Exchange Administrator',
    isPrivileged: false,
  },
  {
    id: '4d6ac14f-3453-41d0-bef9-a3e0c569773a',
    displayName: 'License Administrator',
    isPrivileged: false,
  },
  { id: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451', displayName: 'Global Reader', isPrivileged: true },
];

/** `unifiedRoleDefinition` documents for the built-in roles. */
export function roleDefinitionDocs(): (Record<string, unknown> & { id: string })[] {
  return BUILT_IN_ROLES.map((role) => ({
    id: role.id,
    description: null,
    displayName: role.displayName,
    isBuiltIn: true,
    isEnabled: true,
    isPrivileged: role.isPrivileged,
    resourceScopes: ['/'],
    templateId: role.id,
    version: '1',
    rolePermissions: [],
  }));
}
