import { explainRun, renderExplanationsText } from '../../engine/index.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime.js';
import { planIO } from '../runtime.js';

export async function runExplain(
  runtime: Runtime,
  queries: readonly string[],
  format: 'text' | 'json',
  output: Output,
): Promise<ExitCode> {
  const { explanations } = await explainRun(runtime.loaded.spec, planIO(runtime), queries);
  output.out(
    format === 'json'
      ? JSON.stringify(explanations, null, 2) + '\n'
      : renderExplanationsText(explanations),
  );
  return explanations.some((e) => e.decision === 'not-found') ? EXIT.error : EXIT.ok;
}
