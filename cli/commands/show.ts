/**
 * `show <plan.json>`: a plan saved by `plan --out` rendered again, as text, Markdown or JSON,
 * without config, sources or tenant (a CI job renders the artifact it was handed; a reviewer
 * reads the full plan a size-limited comment points to). Reads the file as `apply` does.
 */
import { Command, Option } from 'commander';
import {
  renderPlanHtml,
  renderPlanJson,
  renderPlanMarkdown,
  renderPlanText,
} from '../../engine/index.js';
import type { Plan } from '../../engine/index.js';
import { paintPlanText } from '../colour.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { colorsOf } from '../output.js';
import { parseCount } from '../overrides.js';
import { readPlanFile } from '../plan-file.js';
import type { CommandContext } from './command-context.js';
import type { PlanFormat } from './plan.js';

export interface ShowOptions {
  readonly format: PlanFormat;
  /** Most characters of the Markdown (engine default 60,000). */
  readonly markdownBudget?: number;
}

export async function runShow(
  file: string,
  options: ShowOptions,
  output: Output,
): Promise<ExitCode> {
  const plan = await readPlanFile(file);
  output.out(renderSaved(plan, options, output));
  return EXIT.ok;
}

function renderSaved(plan: Plan, options: ShowOptions, output: Output): string {
  switch (options.format) {
    case 'json':
      return renderPlanJson(plan);
    case 'html':
      return renderPlanHtml(plan);
    case 'markdown':
      return renderPlanMarkdown(
        plan,
        options.markdownBudget === undefined ? {} : { budget: options.markdownBudget },
      );
    case 'text':
      return paintPlanText(renderPlanText(plan), colorsOf(output));
  }
}

export function registerShowCommand(program: Command, context: CommandContext): void {
  const command = new Command('show')
    .description(
      'render a plan saved by `plan --out` as text, markdown, JSON or a self-contained HTML page (no config or tenant needed)',
    )
    .argument('<plan>', 'plan file saved by `plan --out`')
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'json', 'markdown', 'html'])
        .default('text'),
    )
    .option(
      '--markdown-budget <characters>',
      'most characters of the markdown plan; what does not fit is counted (default 60000)',
      parseCount,
    )
    .action(async (file: string, opts: { format: PlanFormat; markdownBudget?: number }) => {
      context.setExitCode(
        await runShow(
          file,
          {
            format: opts.format,
            ...(opts.markdownBudget === undefined ? {} : { markdownBudget: opts.markdownBudget }),
          },
          context.output,
        ),
      );
    });
  // addCommand does not pass on the parent's settings (exitOverride, output): copy them.
  program.addCommand(command.copyInheritedSettings(program));
}
