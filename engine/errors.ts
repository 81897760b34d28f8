import type { Diagnostic } from './model/diagnostic.js';
import { formatDiagnostic } from './model/diagnostic.js';

/** Base of every error entrasync raises on purpose; `code` is stable for scripts and tests. */
export class EntrasyncError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Configuration is invalid; carries every problem found, each with file:line:column. */
export class ConfigError extends EntrasyncError {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super('config.invalid', diagnostics.map(formatDiagnostic).join('\n'));
  }
}

/** The tenant could not be read completely; no plan may be made from what was read. */
export class TenantReadError extends EntrasyncError {
  /** `cause`: the failure underneath (an authentication failure is reported as its own line). */
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('tenant.read-failed', message, options);
  }
}

/** A saved plan no longer describes the tenant (or the config) it would be applied to. */
export class StalePlanError extends EntrasyncError {
  constructor(message: string) {
    super('plan.stale', message);
  }
}

/** The plan holds changes that safety checks blocked; by default nothing of it is applied. */
export class SafetyBlockedError extends EntrasyncError {
  constructor(message: string) {
    super('plan.blocked', message);
  }
}

/** A source could not be read; no plan made from it may be applied. */
export class SourceFailedError extends EntrasyncError {
  constructor(message: string) {
    super('source.failed', message);
  }
}
