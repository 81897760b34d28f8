/**
 * The user's `identities` (a collection of objectIdentity: `signInType`, `issuer`,
 * `issuerAssignedId`) as Entra keeps it.
 *
 * Source: the objectIdentity resource page of the Graph v1.0 reference: `issuer` at most 512
 * characters, `issuerAssignedId` at most 64; the pair issuer + issuerAssignedId is unique in
 * the organisation; with signInType `emailAddress` (or a custom type starting with
 * `emailAddress`) the issuerAssignedId must be a valid email address; with `userName` it must
 * start with a letter or digit and hold only letters, digits and `- _ .`; any other custom
 * string is a valid signInType. Every user has a `userPrincipalName` identity whose
 * issuerAssignedId is its UPN, issued by the tenant's initial domain (as a real tenant shows
 * it): the simulator derives it from the UPN on every write, so a client-written
 * `userPrincipalName` entry is replaced by it (Graph instead sets the UPN from it).
 */
import { graphErrors } from '../errors.js';

export const OBJECT_IDENTITY_TYPE = 'microsoft.graph.objectIdentity';
const RESOURCE = 'User';
const UPN_SIGN_IN = 'userPrincipalName';
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface ObjectIdentity {
  readonly signInType: string;
  readonly issuer: string;
  readonly issuerAssignedId: string;
}

/** Checks a written `identities` value; returns the entries to keep (never the UPN one). */
export function validateIdentities(value: unknown): ObjectIdentity[] {
  if (!Array.isArray(value)) {
    throw graphErrors.cannotConvert(`Collection(${OBJECT_IDENTITY_TYPE})`, JSON.stringify(value));
  }
  const out: ObjectIdentity[] = [];
  const seen = new Set<string>();
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw graphErrors.cannotConvert(OBJECT_IDENTITY_TYPE, JSON.stringify(entry));
    }
    const fields: Record<string, string> = {};
    for (const [key, v] of Object.entries(entry as Record<string, unknown>)) {
      if (key.startsWith('@odata.')) continue;
      if (key !== 'signInType' && key !== 'issuer' && key !== 'issuerAssignedId') {
        throw graphErrors.unknownComplexProperty(key, OBJECT_IDENTITY_TYPE);
      }
      if (typeof v !== 'string') throw graphErrors.cannotConvert('Edm.String', JSON.stringify(v));
      fields[key] = v;
    }
    const { signInType = '', issuer = '', issuerAssignedId = '' } = fields;
    if (!validIdentity(signInType, issuer, issuerAssignedId)) {
      throw graphErrors.invalidValue('identities', RESOURCE);
    }
    if (signInType.toLowerCase() === UPN_SIGN_IN.toLowerCase()) continue;
    const pair = `${issuer.toLowerCase()}\n${issuerAssignedId.toLowerCase()}`;
    if (seen.has(pair)) throw graphErrors.objectConflict('identities');
    seen.add(pair);
    out.push({ signInType, issuer, issuerAssignedId });
  }
  return out;
}

function validIdentity(signInType: string, issuer: string, id: string): boolean {
  if (signInType.trim() === '' || issuer.trim() === '' || id.trim() === '') return false;
  if (issuer.length > 512 || id.length > 64) return false;
  const type = signInType.toLowerCase();
  if (type.startsWith('emailaddress')) return EMAIL.test(id);
  if (type === 'username') return USER_NAME.test(id);
  return true;
}

/**
 * The stored collection: the kept entries of `written` (or, when no write names it, the
 * current non-UPN entries) followed by the user's `userPrincipalName` identity.
 */
export function identitiesFor(
  current: unknown,
  written: readonly ObjectIdentity[] | undefined,
  upn: string,
  initialDomain: string,
): ObjectIdentity[] {
  const kept =
    written ??
    (Array.isArray(current) ? (current as ObjectIdentity[]) : []).filter(
      (i) => i.signInType !== UPN_SIGN_IN,
    );
  return [...kept, { signInType: UPN_SIGN_IN, issuer: initialDomain, issuerAssignedId: upn }];
}
