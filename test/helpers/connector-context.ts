import { resolveSecret } from '../../config/secrets.js';
import type { ConnectorContext } from '../../engine/ports.js';
import { Redactor } from '../../engine/secret.js';

/** The context a connector gets in a real run, with the environment a test chooses. */
export function aConnectorContext(
  baseDir: string,
  env: Readonly<Record<string, string | undefined>> = {},
  redactor = new Redactor(),
): ConnectorContext {
  return {
    baseDir,
    redactor,
    resolveSecret: (ref) => resolveSecret(ref, { env, baseDir, redactor }),
  };
}
