import { loadConfig } from '../../config/load.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

/**
 * Static checks only: YAML, schema, cross-references and every expression compiled. It needs no
 * secrets and no network, so a pull request can run it. Checks against the sources' actual
 * fields (S9) run at the start of `plan`, before anything is planned.
 */
export async function runValidate(configPath: string, output: Output): Promise<ExitCode> {
  const loaded = await loadConfig(configPath);
  const sources = Object.keys(loaded.config.sources).length;
  const attributes = Object.keys(loaded.spec.users.attributes).length;
  output.out(`${configPath}: valid (${sources} source(s), ${attributes} mapped attribute(s))\n`);
  return EXIT.ok;
}
