import { loadConfig } from '../../config/load.js';
import { loadDeliverySettings } from '../../config/onboarding.js';
import type { LoadedConfig } from '../../config/load.js';
import { ConfigError } from '../../engine/errors.js';
import type { Diagnostic } from '../../engine/model/diagnostic.js';
import { formatDiagnostic } from '../../engine/model/diagnostic.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { colorsOf } from '../output.js';
import { csvHeaderDiagnostics } from './validate-headers.js';

export type ValidateFormat = 'text' | 'json';

/** One diagnostic of `validate --format json`: where (when known), what, and its stable code. */
export interface ValidateJsonDiagnostic {
  readonly severity: Diagnostic['severity'];
  readonly code: string;
  readonly message: string;
  readonly path: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
}

/**
 * Static checks: YAML, schema, cross-references, every expression compiled, the cron schedule,
 * the header row of each local CSV source (validate-headers.ts) and the onboarding template. It needs no secrets and no
 * network, so a pull request can run it. Checks against the records of every kind of source
 * (S9) run at the start of `plan`, before anything is planned.
 *
 * Text: problems on stderr as `file:line:col: message`, exit 1 on any error (via main's
 * ConfigError report). JSON: one document on stdout, `{ valid, diagnostics }`, the same exit code.
 */
export async function runValidate(
  configPath: string,
  output: Output,
  format: ValidateFormat = 'text',
): Promise<ExitCode> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(configPath);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return reportDiagnostics(configPath, err.diagnostics, output, format);
  }
  const diagnostics = [
    ...loaded.warnings,
    ...(await csvHeaderDiagnostics(loaded)),
    ...(await templateDiagnostics(loaded)),
  ];
  const code = reportDiagnostics(configPath, diagnostics, output, format);
  if (code !== EXIT.ok || format === 'json') return code;
  const sources = Object.keys(loaded.config.sources).length;
  const attributes = Object.keys(loaded.spec.users.attributes).length;
  const c = colorsOf(output);
  output.out(
    `${configPath}: ${c.green('valid')} (${sources} source(s), ${attributes} mapped attribute(s))\n`,
  );
  return EXIT.ok;
}

/** The onboarding mail template (`users.onboarding.delivery.template`) read and checked. */
async function templateDiagnostics(loaded: LoadedConfig): Promise<readonly Diagnostic[]> {
  try {
    await loadDeliverySettings(loaded.config.users.onboarding, loaded.baseDir);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics;
    throw err;
  }
}

/**
 * JSON: the whole result on stdout. Text: each diagnostic on stderr as `file:line:col: message`
 * (errors red, warnings yellow), then the error count, as main reports any ConfigError.
 */
function reportDiagnostics(
  configPath: string,
  diagnostics: readonly Diagnostic[],
  output: Output,
  format: ValidateFormat,
): ExitCode {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  if (format === 'json') {
    output.out(renderValidateJson(configPath, diagnostics));
    return errors > 0 ? EXIT.error : EXIT.ok;
  }
  const c = colorsOf(output);
  for (const d of diagnostics) {
    output.err(`${(d.severity === 'error' ? c.red : c.yellow)(formatDiagnostic(d))}\n`);
  }
  if (errors === 0) return EXIT.ok;
  output.err(`${c.bold(c.red(`${errors} error(s) in configuration`))}\n`);
  return EXIT.error;
}

function renderValidateJson(configPath: string, diagnostics: readonly Diagnostic[]): string {
  const result = {
    config: configPath,
    valid: !diagnostics.some((d) => d.severity === 'error'),
    diagnostics: diagnostics.map((d): ValidateJsonDiagnostic => ({
      severity: d.severity,
      code: d.code,
      message: d.message,
      path: d.path,
      ...(d.position
        ? { file: d.position.file, line: d.position.line, column: d.position.column }
        : {}),
    })),
  };
  return `${JSON.stringify(result, null, 2)}\n`;
}
