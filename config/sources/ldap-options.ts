import { Type, type Static } from '@sinclair/typebox';
import { SecretReference, StringEnum } from '../schema-slots.js';

export const DEFAULT_PAGE_SIZE = 1000;
export const DEFAULT_TIMEOUT_SECONDS = 120;
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;
/** Values of a ranged attribute (`member;range=0-1499`) asked for per request; AD's MaxValRange. */
export const DEFAULT_RANGE_SIZE = 1500;

/** Read when `attributes` is not given; an attribute the directory does not have is simply absent. */
export const DEFAULT_ATTRIBUTES: readonly string[] = [
  'cn',
  'sn',
  'givenName',
  'displayName',
  'mail',
  'uid',
  'userPrincipalName',
  'sAMAccountName',
  'employeeID',
  'employeeNumber',
  'employeeType',
  'title',
  'department',
  'company',
  'manager',
  'telephoneNumber',
  'mobile',
  'l',
  'st',
  'c',
  'co',
  'postalCode',
  'streetAddress',
  'physicalDeliveryOfficeName',
  'preferredLanguage',
  'objectGUID',
  'entryUUID',
  'userAccountControl',
  'accountExpires',
  'whenChanged',
  'memberOf',
];

/** Attributes whose value is always a list, even with one value or none. */
export const DEFAULT_MULTI_VALUED: readonly string[] = [
  'memberOf',
  'objectClass',
  'proxyAddresses',
  'member',
  'uniqueMember',
  'otherMailbox',
  'otherTelephone',
  'otherMobile',
];

const DnString = (description: string) =>
  Type.String({ minLength: 1, description: `${description} Written as RFC 4514 text.` });

export const LdapGroupOptions = Type.Object(
  {
    baseDn: Type.Optional(
      Type.Union(
        [
          DnString('Where groups are searched.'),
          Type.Array(DnString('A group base DN.'), { minItems: 1 }),
        ],
        {
          description: 'Base DN or DNs under which groups are searched; defaults to `baseDn`.',
        },
      ),
    ),
    filter: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'LDAP filter (RFC 4515) selecting the groups to report. Defaults to `(objectClass=group)` on Active Directory and `(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))` elsewhere.',
      }),
    ),
    nested: Type.Optional(
      Type.Boolean({
        default: true,
        description:
          'Count membership through nested groups: a person in group A, which is a member of group B, is in B too.',
      }),
    ),
    expand: Type.Optional(
      StringEnum(['auto', 'in-chain', 'walk'] as const, {
        default: 'auto',
        description:
          "How nested membership is found: `in-chain` asks Active Directory (LDAP_MATCHING_RULE_IN_CHAIN, one search per group); `walk` reads every group's members (with `member;range=` retrieval) and follows them here; `auto` is `in-chain` on Active Directory and `walk` elsewhere.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Also read groups and give every person the fields `groups` (names, the `cn`) and `groupDns` (DNs) of the groups they are in.',
  },
);
export type LdapGroupOptions = Static<typeof LdapGroupOptions>;

export const LdapSourceOptions = Type.Object(
  {
    kind: Type.Literal('ldap', { description: 'An LDAP directory or Active Directory.' }),
    url: Type.String({
      pattern: '^[Ll][Dd][Aa][Pp][Ss]?://[^/?#]+/?$',
      patternErrorMessage: 'must be an ldaps:// or ldap:// URL naming a host (and port) only',
      description:
        'Server to read, `ldaps://host[:port]` (TLS from the start) or `ldap://host[:port]` (StartTLS before binding, unless `startTls: false` with `allowInsecure: true`).',
    }),
    startTls: Type.Optional(
      Type.Boolean({
        default: true,
        description:
          'With an `ldap://` URL: upgrade the connection with StartTLS before binding. A server that refuses StartTLS fails the source; it never falls back to cleartext. Turning it off needs `allowInsecure: true`.',
      }),
    ),
    allowInsecure: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'Allow an `ldap://` connection without TLS, so the bind password and every record cross the network in cleartext. Off by default; when on, every read warns.',
      }),
    ),
    caFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'CA certificate(s) (PEM) that signed the server certificate, relative to the config file. Without it, the system trust store is used. Certificates are always verified.',
      }),
    ),
    tlsServerName: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Host name the server certificate must carry, when it differs from the URL host (for example a URL by IP address to a domain controller whose certificate names `dc1.corp.example`).',
      }),
    ),
    bindDn: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Who to bind as: a DN, or on Active Directory also `user@domain` or `DOMAIN\\user`. Absent: an anonymous read.',
      }),
    ),
    password: Type.Optional(
      SecretReference(
        'Password of `bindDn`, as a reference (`${env:LDAP_PASSWORD}` or `${file:path}`), resolved only when connecting.',
      ),
    ),
    baseDn: Type.Union(
      [DnString('Where people are searched.'), Type.Array(DnString('A base DN.'), { minItems: 1 })],
      {
        description:
          'Base DN, or a list of base DNs read one after the other, under which people are searched. An entry found under two bases is read once.',
      },
    ),
    scope: Type.Optional(
      StringEnum(['sub', 'one', 'base'] as const, {
        default: 'sub',
        description:
          'Search scope under each base DN: `sub` (the whole subtree), `one` (direct children) or `base` (the base entry only).',
      }),
    ),
    filter: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'LDAP filter (RFC 4515) selecting people. Defaults to `(&(objectCategory=person)(objectClass=user))` on Active Directory (computer accounts are users too) and `(objectClass=person)` elsewhere.',
      }),
    ),
    attributes: Type.Optional(
      Type.Array(Type.String({ minLength: 1, description: 'An attribute name.' }), {
        minItems: 1,
        uniqueItems: true,
        description:
          'Attributes to read; each becomes a field of the record under the name written here. The key attribute is always read. Defaults to a list of common person attributes (see the connector README).',
      }),
    ),
    key: Type.String({
      minLength: 1,
      description:
        'Attribute that identifies a person uniquely and for good, e.g. `objectGUID` (Active Directory, read as a GUID string) or `entryUUID` (OpenLDAP). An entry without it is left out and makes the source incomplete.',
    }),
    multiValued: Type.Optional(
      Type.Array(Type.String({ minLength: 1, description: 'An attribute name.' }), {
        uniqueItems: true,
        description:
          'Attributes whose field is always a list. Every other attribute gives one value (the first, with a warning when an entry holds more). Defaults to memberOf, objectClass, proxyAddresses, member, uniqueMember, otherMailbox, otherTelephone, otherMobile.',
      }),
    ),
    pageSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100_000,
        default: DEFAULT_PAGE_SIZE,
        description:
          'Entries per page of the paged search (RFC 2696). Active Directory returns at most 1,000 (its MaxPageSize), whatever is asked.',
      }),
    ),
    referrals: Type.Optional(
      StringEnum(['incomplete', 'ignore'] as const, {
        default: 'incomplete',
        description:
          'What a referral (continuation reference to another server) means: `incomplete` (people may live there, so nothing is deprovisioned while one is returned) or `ignore` (they are listed as a warning). Referrals are never followed.',
      }),
    ),
    directory: Type.Optional(
      StringEnum(['auto', 'ad', 'ldap'] as const, {
        default: 'auto',
        description:
          'Kind of directory: `ad` (Active Directory or Samba AD), `ldap` (any other) or `auto` (Active Directory when the root DSE says so).',
      }),
    ),
    groups: Type.Optional(LdapGroupOptions),
    timeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: DEFAULT_TIMEOUT_SECONDS,
        description:
          'Longest wait for one server response (a bind, one page); a read that times out is incomplete or failed.',
      }),
    ),
    connectTimeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: DEFAULT_CONNECT_TIMEOUT_SECONDS,
        description: 'Longest wait to open the connection, TLS handshake included.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'An LDAP directory or Active Directory, read with a paged search over TLS. Any result short of complete (a limit, a referral, a dropped connection) makes the source incomplete or failed, never silently shorter.',
  },
);
export type LdapSourceOptions = Static<typeof LdapSourceOptions>;
