/**
 * `validate`'s look at local CSV sources: every column the mappings, scope, rules and join read
 * of a CSV source must be in its header row. Only the header is read (no records, no secrets, no
 * network), so a pull request catches a renamed column before any plan; `plan` checks every kind
 * of source against its records again (S9).
 *
 * A CSV file that is not there is a warning, not an error: an export is often written by the job
 * that runs `plan`, after the pull request's `validate`.
 */
import type { LoadedConfig } from '../../config/load.js';
import { readCsvHeader } from '../../connectors/csv/index.js';
import type { CsvSourceOptions } from '../../config/sources/csv-options.js';
import { specExpressions, suggest } from '../../engine/pipeline/lint.js';
import type { Diagnostic } from '../../engine/model/diagnostic.js';
import type { SourceSnapshot } from '../../engine/model/source.js';

export async function csvHeaderDiagnostics(loaded: LoadedConfig): Promise<Diagnostic[]> {
  const diagnostics: Diagnostic[] = [];
  const headers = new Map<string, { readonly file: string; readonly fields: readonly string[] }>();
  for (const [name, options] of Object.entries(loaded.config.sources)) {
    if (options.kind !== 'csv') continue;
    const csv = options as CsvSourceOptions;
    const snapshot = await readCsvHeader(name, csv, loaded.baseDir);
    diagnostics.push(...headerIssues(name, snapshot));
    if (snapshot.status !== 'failed')
      headers.set(name, { file: csv.path, fields: snapshot.fields });
  }
  for (const { expression, input } of specExpressions(loaded.spec)) {
    for (const ref of expression.fieldReferences) {
      // `$x.y` where x is not a CSV source is another source, a bound variable or a function.
      const header = headers.get(ref.variable ?? input);
      if (!header || header.fields.includes(ref.field)) continue;
      const near = suggest(ref.field, header.fields);
      diagnostics.push({
        severity: 'error',
        code: 'source.unknown-column',
        message:
          `column \`${ref.field}\` is not in the header of ${header.file} (source \`${ref.variable ?? input}\`)` +
          (near ? `; did you mean \`${near}\`?` : `; the header has ${header.fields.join(', ')}`),
        path: expression.configPath,
        position: expression.positionAt(ref.offset),
      });
    }
  }
  return diagnostics;
}

/** The header's own problems (no key column, duplicate names, unreadable file) as diagnostics. */
function headerIssues(name: string, snapshot: SourceSnapshot): Diagnostic[] {
  return snapshot.issues
    .filter((issue) => issue.severity === 'error')
    .map((issue) => {
      const at = issue.location;
      const unreadable = issue.code === 'source.unreadable';
      return {
        severity: unreadable ? ('warning' as const) : ('error' as const),
        code: issue.code,
        message: unreadable
          ? `header of source \`${name}\` not checked: ${issue.message}`
          : issue.message.replace(/^[^:]+(?::\d+)+: /, ''),
        path: `sources.${name}`,
        ...(at?.file !== undefined && at.line !== undefined
          ? { position: { file: at.file, line: at.line, column: at.column ?? 1 } }
          : {}),
      };
    });
}
