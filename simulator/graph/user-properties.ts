/**
 * The shape of the simulator's user property table (user-schema.ts), and its entries for the
 * writable properties of the generated table (../../engine/model/graph-user-properties.ts, from
 * Graph's v1.0 metadata) that user-schema.ts does not spell out itself.
 */
import { WRITABLE_USER_PROPERTIES } from '../../engine/model/graph-user-properties.js';

export type PropertyKind =
  | 'string'
  | 'boolean'
  | 'stringCollection'
  | 'dateTimeOffset'
  | 'extensionAttributes'
  | 'employeeOrgData'
  | 'passwordProfile'
  | 'assignedLicenses'
  | 'licenseAssignmentStates'
  | 'identities';

export interface PropertySpec {
  readonly kind: PropertyKind;
  /** Client writes are rejected with Graph's read-only error; the seed may still set it. */
  readonly readOnly?: boolean;
  /** Computed by the directory from other state; not even a seed may set it. */
  readonly derived?: boolean;
  readonly requiredOnCreate?: boolean;
  /** Null (clearing) is rejected with InvalidValue. */
  readonly notNullable?: boolean;
  readonly maxLength?: number;
  /** A string collection's most entries. */
  readonly maxItems?: number;
  readonly valid?: (value: string) => boolean;
  /**
   * Writable by Graph on a user with `onPremisesSyncEnabled: true`; every other property is
   * mastered on-premises for such a user.
   */
  readonly cloudMastered?: boolean;
}

/**
 * Every other writable property of the generated table (../../engine/model/
 * graph-user-properties.ts, from Graph's v1.0 metadata) with its type, documented maximum length
 * and allowed values (compared without regard to case); complex ones by their subfields.
 */
export function generatedProperties(): Record<string, PropertySpec> {
  const out: Record<string, PropertySpec> = {};
  for (const [path, p] of Object.entries(WRITABLE_USER_PROPERTIES)) {
    const name = path.split('.')[0] ?? path;
    if (name in out) continue;
    if (name === 'employeeOrgData') {
      out[name] = { kind: 'employeeOrgData' };
      continue;
    }
    if (path.includes('.')) continue;
    const kind: PropertyKind =
      p.type === 'Boolean'
        ? 'boolean'
        : p.type === 'DateTimeOffset'
          ? 'dateTimeOffset'
          : p.collection
            ? 'stringCollection'
            : 'string';
    const values = p.values?.map((v) => v.toLowerCase());
    out[name] = {
      kind,
      ...(p.maxLength === undefined ? {} : { maxLength: p.maxLength }),
      ...(p.maxItems === undefined ? {} : { maxItems: p.maxItems }),
      ...(values ? { valid: (v: string) => values.includes(v.toLowerCase()) } : {}),
      ...(name === 'passwordPolicies' ? { valid: validPasswordPolicies } : {}),
    };
  }
  return out;
}

/** `DisablePasswordExpiration`, `DisableStrongPassword`, both (comma-separated) or `None`. */
function validPasswordPolicies(value: string): boolean {
  const allowed = ['disablepasswordexpiration', 'disablestrongpassword', 'none'];
  return value.split(',').every((p) => allowed.includes(p.trim().toLowerCase()));
}
