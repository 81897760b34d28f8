/**
 * The contracts between the engine and the outside world. Connectors implement these; the
 * engine calls nothing else. Kept deliberately small (style practice 9): optional abilities get
 * their own interface rather than widening these.
 */
import type { Change } from './model/plan.js';
import type { TargetError, WriteStats } from './model/report.js';
import type { SourceSnapshot } from './model/source.js';
import type { TenantReadRequest, TenantState } from './model/tenant.js';
import type { WritebackChange, WritebackRecord, WritebackResult } from './model/writeback.js';
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
  | {
      readonly ok: true;
      readonly targetId?: string;
      readonly recovered?: true;
      /** What the write did, for people (`credential delivered to <recipient>`). */
      readonly note?: string;
    }
  | { readonly ok: false; readonly error: TargetError }
  /** Not attempted (the run is stopping: time budget, abort); safe to apply in a later run. */
  | { readonly ok: false; readonly notRun: true; readonly code: string; readonly reason: string };

export interface TargetWriter {
  readonly apiVersion: typeof PORT_API_VERSION;
  /** Carries out one change. Never throws for a per-object failure: returns it (invariant 6). */
  apply(change: Change): Promise<WriteResult>;
}

/** What a batching writer is told about the run a batch belongs to. */
export interface WriteContext {
  /**
   * Ids of changes an interrupted earlier run started but recorded no outcome for (from the
   * journal): their write may have committed with the response lost, so the writer proves
   * whether it did before writing again (G4). Empty without a journal; the writer still
   * reconciles every lost response and every "already exists" it meets.
   */
  readonly inDoubt: ReadonlySet<string>;
  /**
   * Object ids created by this run or by the interrupted run it resumes. A 404 on one of them
   * is replication lag and is retried within a bounded window; a 404 on any other object means
   * the plan is stale, and never leads to deprovisioning (G6). The writer adds what it creates.
   */
  readonly created: Set<string>;
  /**
   * Ids of objects this run created, by the key changes use for an object without an id
   * (`upn:<upn>`, `group:<uniqueName>`, see apply.ts `userKey`/`groupKey`): a member, a manager
   * or a license holder created earlier in the run is written by the id its create returned.
   * Filled by the engine as creates apply; the engine orders changes so a create settles
   * before anything that names its object.
   */
  readonly createdIds: Map<string, string>;
  /** Aborted when the run stops: the writer sends nothing more and answers `notRun`. */
  readonly signal: AbortSignal;
  /**
   * The run may start no wait that ends later than this long after its first write; what is
   * left answers `notRun` (resumable) rather than being retried early (G2).
   */
  readonly timeBudgetMs?: number;
}

/**
 * A writer that carries out many independent changes per call: batched round trips, paced to
 * the target's write limits, retried and reconciled so each change is applied exactly once.
 * The engine guarantees the changes of one call touch distinct objects, and that a change runs
 * only after every earlier change to the same object finished.
 */
export interface BatchTargetWriter extends TargetWriter {
  /** Most changes the engine passes in one call. */
  readonly maxBatchSize: number;
  /** Calls the engine keeps in flight at once. */
  readonly concurrency: number;
  /**
   * One result per change, in order. Never throws for a per-object failure (invariant 6); a
   * throw means the writer itself broke and the run stops.
   */
  applyBatch(changes: readonly Change[], context: WriteContext): Promise<readonly WriteResult[]>;
  /** Figures since the writer was made. */
  stats(): WriteStats;
}

export function isBatchTargetWriter(writer: TargetWriter): writer is BatchTargetWriter {
  return typeof (writer as Partial<BatchTargetWriter>).applyBatch === 'function';
}

/**
 * Writes Entra values back to one source's records (issue 26, `writeback`). Made only by apply,
 * with the source's write credentials resolved then: planning never has one (practice 10).
 */
export interface SourceWriter {
  readonly apiVersion: typeof PORT_API_VERSION;
  readonly source: string;
  /**
   * Writes every field of one change to its record (one LDAP modify, one PATCH). Never throws
   * for a per-record failure: it comes back `failed`, naming the record and the LDAP result code
   * or HTTP status (invariant 6).
   */
  write(change: WritebackChange): Promise<WritebackResult>;
  /**
   * `doctor`: whether the write credentials are there and work, without writing: resolves them,
   * connects and binds (LDAP), and where the server can say so (Active Directory's
   * `allowedAttributesEffective` on `sample`) whether the fields may be written.
   */
  check(fields: readonly string[], sample?: WritebackRecord): Promise<WriterCheck>;
  /** Closes connections; the writer is unusable afterwards. */
  close(): Promise<void>;
}

export interface WriterCheck {
  readonly status: 'ok' | 'warn' | 'fail';
  readonly message: string;
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
