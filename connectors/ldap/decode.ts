/**
 * Attribute values as a mapping wants them. LDAP hands over octet strings; Active Directory keeps
 * several people-related values in binary or in Windows encodings. Decoding is by attribute name
 * (case-insensitive), the same on every directory:
 *
 * - GUIDs (`objectGUID`, `mS-DS-ConsistencyGuid`): 16 bytes -> canonical lower-case GUID text in
 *   Windows byte order (`objectGUID` of AD and `[guid]` in PowerShell agree). The base64 of the
 *   raw bytes is what Entra Connect writes as `onPremisesImmutableId`; the record carries it as
 *   the derived field `immutableId`.
 * - SIDs (`objectSid`, `sIDHistory`): -> `S-1-5-21-...`.
 * - `userAccountControl` -> a number; the derived field `accountDisabled` is its bit 0x2.
 * - FILETIME integers (`accountExpires`, `pwdLastSet`, `lastLogonTimestamp`, ...): 100 ns ticks
 *   since 1601 -> ISO 8601 UTC, or `null` for 0 and 0x7FFFFFFFFFFFFFFF ("never").
 * - GeneralizedTime (`whenChanged`, `whenCreated`, `modifyTimestamp`, ...) -> ISO 8601 UTC.
 * - Any other value that is not UTF-8 text (a photo, a certificate) -> base64.
 *
 * A value that does not decode (a GUID of 15 bytes) is a `DecodeProblem`, which the source turns
 * into an issue for that entry: a wrong anchor is worse than none.
 */
import type { SourceValue } from '../../engine/model/source.js';

export type RawValue = string | Buffer;

export class DecodeProblem extends Error {}

type Decoder = (value: RawValue) => SourceValue;

const GUID_ATTRIBUTES = ['objectGUID', 'mS-DS-ConsistencyGuid', 'msExchMailboxGuid'];
const SID_ATTRIBUTES = ['objectSid', 'sIDHistory', 'securityIdentifier'];
const FILETIME_ATTRIBUTES = [
  'accountExpires',
  'pwdLastSet',
  'lastLogon',
  'lastLogonTimestamp',
  'lastLogoff',
  'badPasswordTime',
  'lockoutTime',
];
const GENERALIZED_TIME_ATTRIBUTES = [
  'whenChanged',
  'whenCreated',
  'createTimestamp',
  'modifyTimestamp',
  'pwdChangedTime',
  'msDS-LastSuccessfulInteractiveLogonTime',
];
const INTEGER_ATTRIBUTES = [
  'userAccountControl',
  'msDS-User-Account-Control-Computed',
  'uSNChanged',
  'uSNCreated',
  'primaryGroupID',
];
/** Binary attributes whatever their bytes look like: ldapts must hand these over as Buffers. */
const OTHER_BINARY_ATTRIBUTES = [
  'thumbnailPhoto',
  'jpegPhoto',
  'userCertificate',
  'userSMIMECertificate',
  'msExchArchiveGUID',
];

const DECODERS = new Map<string, Decoder>();
for (const a of GUID_ATTRIBUTES) DECODERS.set(a.toLowerCase(), (v) => guidToString(toBuffer(v)));
for (const a of SID_ATTRIBUTES) DECODERS.set(a.toLowerCase(), (v) => sidToString(toBuffer(v)));
for (const a of FILETIME_ATTRIBUTES) DECODERS.set(a.toLowerCase(), (v) => fileTimeToIso(text(v)));
for (const a of GENERALIZED_TIME_ATTRIBUTES) {
  DECODERS.set(a.toLowerCase(), (v) => generalizedTimeToIso(text(v)));
}
for (const a of INTEGER_ATTRIBUTES) DECODERS.set(a.toLowerCase(), (v) => integer(text(v)));
for (const a of OTHER_BINARY_ATTRIBUTES) {
  DECODERS.set(a.toLowerCase(), (v) => toBuffer(v).toString('base64'));
}

/** Names to pass to ldapts as `explicitBufferAttributes`, in the spellings servers return. */
export function binaryAttributeNames(requested: readonly string[]): string[] {
  const binary = new Set(
    [...GUID_ATTRIBUTES, ...SID_ATTRIBUTES, ...OTHER_BINARY_ATTRIBUTES].map((a) => a.toLowerCase()),
  );
  const names = new Set<string>();
  for (const a of [
    ...GUID_ATTRIBUTES,
    ...SID_ATTRIBUTES,
    ...OTHER_BINARY_ATTRIBUTES,
    ...requested,
  ]) {
    if (!binary.has(a.toLowerCase())) continue;
    // ldapts compares the returned type case-sensitively; servers answer in their schema's case
    // or in the request's, so every spelling is listed.
    names.add(a);
    names.add(a.toLowerCase());
  }
  return [...names];
}

/** Decodes one value of attribute `name`; throws `DecodeProblem` when it cannot. */
export function decodeValue(name: string, value: RawValue): SourceValue {
  const decoder = DECODERS.get(name.toLowerCase());
  if (decoder) return decoder(value);
  return typeof value === 'string' ? value : value.toString('base64');
}

function toBuffer(value: RawValue): Buffer {
  // ldapts decodes any value that happens to be valid UTF-8 into a string, unless told the
  // attribute is binary; re-encoding gives the same bytes back (the decoder does not strip a BOM
  // inside an attribute value, and the length checks below catch anything else).
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

function text(value: RawValue): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}

function integer(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new DecodeProblem(`"${value}" is not an integer`);
  return Number.parseInt(value, 10);
}

/** 16 bytes in Windows order (Data1..3 little-endian) -> `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`. */
export function guidToString(bytes: Buffer): string {
  if (bytes.length !== 16) {
    throw new DecodeProblem(`a GUID is 16 bytes, this value has ${bytes.length}`);
  }
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = [...bytes.subarray(from, to)];
    if (reverse) part.reverse();
    return part.map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return [
    hex(0, 4, true),
    hex(4, 6, true),
    hex(6, 8, true),
    hex(8, 10, false),
    hex(10, 16, false),
  ].join('-');
}

/** The inverse of `guidToString`: canonical GUID text -> the 16 bytes AD stores. */
export function guidToBytes(guid: string): Buffer {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(guid);
  if (!m) throw new DecodeProblem(`"${guid}" is not a GUID`);
  const part = (i: number, reverse: boolean) => {
    const b = Buffer.from(m[i] as string, 'hex');
    return reverse ? b.reverse() : b;
  };
  return Buffer.concat([
    part(1, true),
    part(2, true),
    part(3, true),
    part(4, false),
    part(5, false),
  ]);
}

/** Binary SID -> `S-<revision>-<authority>-<sub>-...` (MS-DTYP 2.4.2). */
export function sidToString(bytes: Buffer): string {
  if (bytes.length < 8)
    throw new DecodeProblem(`a SID is at least 8 bytes, this one has ${bytes.length}`);
  const revision = bytes.readUInt8(0);
  const count = bytes.readUInt8(1);
  if (bytes.length !== 8 + 4 * count) {
    throw new DecodeProblem(
      `a SID with ${count} sub-authorities is ${8 + 4 * count} bytes, not ${bytes.length}`,
    );
  }
  const authority = bytes.readUIntBE(2, 6);
  const subs: number[] = [];
  for (let k = 0; k < count; k++) subs.push(bytes.readUInt32LE(8 + 4 * k));
  return ['S', revision, authority, ...subs].join('-');
}

const FILETIME_NEVER = 0x7fffffffffffffffn;
/** 100 ns ticks between 1601-01-01 and 1970-01-01. */
const FILETIME_UNIX_EPOCH = 116444736000000000n;

/** AD Integer8 time -> ISO 8601; 0 and 0x7FFFFFFFFFFFFFFF mean "never" and give `null`. */
export function fileTimeToIso(value: string): string | null {
  if (!/^-?\d+$/.test(value.trim())) throw new DecodeProblem(`"${value}" is not a FILETIME`);
  const ticks = BigInt(value.trim());
  if (ticks <= 0n || ticks === FILETIME_NEVER) return null;
  const ms = Number((ticks - FILETIME_UNIX_EPOCH) / 10_000n);
  const date = new Date(ms);
  if (Number.isNaN(date.getTime()))
    throw new DecodeProblem(`"${value}" is out of range as a FILETIME`);
  return date.toISOString();
}

/** RFC 4517 GeneralizedTime (`20240102030405.0Z`, `202401020304Z`, `20240102030405+0200`) -> ISO 8601 UTC. */
export function generalizedTimeToIso(value: string): string {
  const m =
    /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)$/.exec(
      value.trim(),
    );
  if (!m) throw new DecodeProblem(`"${value}" is not a GeneralizedTime`);
  const [, y, mo, d, h, mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const ms = Math.round(Number(`0.${frac || '0'}`) * 1000);
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const offset = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5) || '0');
    t -= sign * offset * 60_000;
  }
  const date = new Date(t);
  if (Number.isNaN(date.getTime())) throw new DecodeProblem(`"${value}" is not a valid time`);
  return date.toISOString();
}

/** `userAccountControl` bit ACCOUNTDISABLE. */
export const UAC_ACCOUNTDISABLE = 0x2;
