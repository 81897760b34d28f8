/**
 * Write-back (issue 26): Entra values written to the source record a person came from, after an
 * apply (Entra Connect writes `msDS-ConsistencyGuid` back to AD, the provisioning service the
 * new work email to Workday). Plain data, planned beside the Graph changes (`Plan.writebacks`)
 * and carried out by the source's own connector, never by the Graph writer.
 */
import type { UserRef } from './plan.js';

/** One `writeback.<source>` entry of the config, as the planner needs it. */
export interface WritebackSpec {
  /** The source written to (`sources.<name>`). */
  readonly source: string;
  /** Source field <- Entra attribute (`id`, `userPrincipalName`, or any attribute read). */
  readonly attributes: readonly { readonly field: string; readonly from: string }[];
  /**
   * HTTP sources: the record field whose value names the record in the write URL (`{id}`); the
   * record key when absent. LDAP records are written by their DN.
   */
  readonly idField?: string;
}

/** One field of one record: what the source holds and what Entra holds. */
export interface WritebackField {
  readonly field: string;
  /** The Entra attribute the value comes from. */
  readonly from: string;
  /** The source's value as read (null: none). */
  readonly before: string | null;
  readonly after: string;
}

/** The record a write-back goes to, as its connector finds it again. */
export interface WritebackRecord {
  readonly key: string;
  /** LDAP: the entry's DN. */
  readonly dn?: string;
  /** HTTP: the value of `idField` (the key when no idField is set). */
  readonly id?: string;
}

/** Every field written to one source record, in one LDAP modify or one PATCH. */
export interface WritebackChange {
  /** `writeback:<source>:<record key>`; stable across re-plans of the same inputs. */
  readonly id: string;
  readonly source: string;
  readonly record: WritebackRecord;
  /** The account the values come from. */
  readonly user: Required<UserRef>;
  readonly set: readonly WritebackField[];
  readonly message: string;
}

export interface BlockedWriteback {
  readonly change: WritebackChange;
  /** `source-unhealthy` or `threshold`. */
  readonly code: string;
  readonly message: string;
}

/** The plan's write-back section: present when the config has a `writeback` section. */
export interface WritebackSection {
  readonly changes: readonly WritebackChange[];
  readonly blocked: readonly BlockedWriteback[];
}

export function writebackId(source: string, key: string): string {
  return `writeback:${source}:${key}`;
}

/** Outcome of one write-back at apply. */
export interface WritebackResult {
  readonly changeId: string;
  readonly source: string;
  readonly key: string;
  readonly outcome: 'applied' | 'failed' | 'skipped';
  /** With `failed`: one line naming the record (DN or key) and the LDAP result or HTTP status. */
  readonly error?: { readonly code: string; readonly message: string };
}
