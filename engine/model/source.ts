/** Where a record or an issue came from, precise enough for a reviewer to find it. */
export interface RecordLocation {
  /** File path as the config names it (CSV), for `file:line`. */
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** LDAP distinguished name. */
  readonly dn?: string;
  /** HTTP page URL with secrets removed. */
  readonly url?: string;
}

/** A value read from a source. CSV values are always strings; LDAP may give arrays. */
export type SourceValue = string | number | boolean | null | readonly SourceValue[] | SourceObject;
export interface SourceObject {
  readonly [field: string]: SourceValue;
}

export interface SourceRecord {
  /** Source name as configured (`sources.<name>`). */
  readonly source: string;
  /** Value of the source's key field; unique within a healthy source. */
  readonly key: string;
  readonly fields: SourceObject;
  readonly location: RecordLocation;
}

export type IssueSeverity = 'error' | 'warning';

export interface SourceIssue {
  readonly severity: IssueSeverity;
  /** Stable code, e.g. `source.parse`, `source.missing-key`. */
  readonly code: string;
  readonly message: string;
  readonly location?: RecordLocation;
  /** Record key, when the issue belongs to one record. */
  readonly key?: string;
}

/**
 * `complete`: every record was read. `incomplete`: some records may be missing (a limit, a
 * referral, a shrink); `failed`: the read itself failed. Only a complete source may cause
 * deprovisioning: an absent record in an unhealthy source is "unknown", never "left".
 */
export type SourceStatus = 'complete' | 'incomplete' | 'failed';

export interface SourceSnapshot {
  readonly name: string;
  readonly kind: string;
  readonly status: SourceStatus;
  /** Field names the source declares (CSV header, LDAP attribute list), for lint (S9, M1). */
  readonly fields: readonly string[];
  readonly records: readonly SourceRecord[];
  readonly issues: readonly SourceIssue[];
}

export function describeLocation(location: RecordLocation | undefined): string {
  if (!location) return '';
  if (location.file !== undefined) {
    let s = location.file;
    if (location.line !== undefined) s += `:${location.line}`;
    if (location.line !== undefined && location.column !== undefined) s += `:${location.column}`;
    return s;
  }
  return location.dn ?? location.url ?? '';
}
