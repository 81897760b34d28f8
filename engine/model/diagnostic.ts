/** A position in a config file, 1-based like every editor. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/**
 * One problem found in configuration or in how configuration meets its sources.
 * `path` is the config path (`users.attributes.displayName`) so tools can group diagnostics.
 */
export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  /** Stable code, e.g. `config.unknown-key`, `config.type`, `expr.syntax`, `expr.unknown-field`. */
  readonly code: string;
  readonly message: string;
  readonly path: string;
  readonly position?: SourcePosition;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.position ? `${d.position.file}:${d.position.line}:${d.position.column}: ` : '';
  const sev = d.severity === 'warning' ? 'warning: ' : '';
  return `${where}${sev}${d.message}${d.path ? ` [${d.path}]` : ''}`;
}
