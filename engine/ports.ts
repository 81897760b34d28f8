/**
 * The contracts between the engine and the outside world. Connectors implement these; the
 * engine calls nothing else. Kept deliberately small (style practice 9): optional abilities get
 * their own interface rather than widening these.
 */
import type { Change } from './model/plan.js';
import type { TargetError } from './model/report.js';
import type { SourceSnapshot } from './model/source.js';
import type { TenantReadRequest, TenantState } from './model/tenant.js';
import type { Redactor, SecretResolver } from './secret.js';

export const PORT_API_VERSION = 1 as const;

export interface SourceConnector {
  readonly apiVersion: typeof PORT_API_VERSION;
  readonly kind: string;
  readonly name: string;
  /**
   * Reads every record. Data problems never throw: they come back as issues, with the status
   * `failed` (nothing trustworthy was read) or `incomplete` (some records may be missing).
   */
  read(): Promise<SourceSnapshot>;
}

export interface TargetReader {
  readonly apiVersion: typeof PORT_API_VERSION;
  /**
   * Reads the whole tenant or throws. A partial read (a failed or repeated page) must throw:
   * a plan made from part of a tenant would create duplicates (G8).
   */
  read(request: TenantReadRequest): Promise<TenantState>;
}

export type WriteResult =
  | { readonly ok: true; readonly targetId?: string }
  | { readonly ok: false; readonly error: TargetError };

export interface TargetWriter {
  readonly apiVersion: typeof PORT_API_VERSION;
  /** Carries out one change. Never throws for a per-object failure: returns it (invariant 6). */
  apply(change: Change): Promise<WriteResult>;
}

/** What every connector factory receives besides its own options. */
export interface ConnectorContext {
  /** Directory relative paths in config resolve against (the config file's directory). */
  readonly baseDir: string;
  /** Register every secret the connector resolves or receives, so output can be scrubbed. */
  readonly redactor: Redactor;
  /**
   * Resolves a secret reference from the connector's options (`password: ${env:LDAP_PASSWORD}`)
   * at the moment it is needed, registered with the redactor; an unset or empty variable throws
   * a ConfigError naming it, before any connection is attempted (M6).
   */
  readonly resolveSecret: SecretResolver;
}
