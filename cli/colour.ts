/**
 * Colour in the text output of plan, apply and validate, on the engine's plain renderings (the
 * engine stays free of terminals). Escape codes come from picocolors, never written by hand.
 *
 * Colour is on only when stdout is a terminal, `NO_COLOR` is unset or empty (no-color.org) and
 * the command was not given `--no-color`. Anything piped, redirected or captured, CI logs and
 * `--format json|markdown` get plain text.
 */
import type { Command } from 'commander';
import { createColors } from 'picocolors';

export type Colors = ReturnType<typeof createColors>;

export const NO_COLORS: Colors = createColors(false);

export function colourWanted(opts: {
  /** commander's `color` of the command: false for `--no-color`. */
  readonly flag?: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly isTTY: boolean | undefined;
}): boolean {
  if (opts.flag === false) return false;
  if (opts.env['NO_COLOR'] !== undefined && opts.env['NO_COLOR'] !== '') return false;
  return opts.isTTY === true;
}

export function colors(enabled: boolean): Colors {
  return enabled ? createColors(true) : NO_COLORS;
}

/** `renderPlanText`'s lines, coloured by what they say: creates green, removals red, ... */
export function paintPlanText(text: string, c: Colors): string {
  return text
    .split('\n')
    .map((line) => paintPlanLine(line, c))
    .join('\n');
}

const SECTION =
  /^(Sources|Changes \(\d+\)|License seats|Warnings \(\d+\)|Problems in the sources \(\d+\))$/;

function paintPlanLine(line: string, c: Colors): string {
  if (SECTION.test(line)) return c.bold(line);
  if (line.startsWith('Blocked by safety checks')) return c.bold(c.red(line));
  if (line.startsWith('Plan ')) return c.bold(line);
  const change = /^ {2}([+~&^-]) (.*)$/.exec(line);
  if (change) {
    const paint = { '+': c.green, '&': c.cyan, '~': c.yellow, '^': c.cyan, '-': c.red }[
      change[1] as '+' | '&' | '~' | '^' | '-'
    ];
    return `  ${paint(`${change[1]} ${change[2]}`)}`;
  }
  if (/^ {2}\S+ \(\w+\): failed\b/.test(line) || / SHORT$/.test(line)) return c.red(line);
  if (/^ {2}\S+ \(\w+\): incomplete\b/.test(line)) return c.yellow(line);
  if (/^ {2}(error|warning) /.test(line))
    return line.startsWith('  error') ? c.red(line) : c.yellow(line);
  return line;
}

/** `renderReportText`'s lines: applied green, failed red, skipped and not run dim. */
export function paintReportText(text: string, c: Colors): string {
  return text
    .split('\n')
    .map((line) => {
      if (line.startsWith('  applied ')) return c.green(line);
      if (line.startsWith('  failed ')) return c.red(line);
      if (line.startsWith('  skipped ') || line.startsWith('  not-run ')) return c.dim(line);
      if (line.startsWith('Apply ')) return c.bold(line);
      return line;
    })
    .join('\n');
}

/** The commands whose text output is coloured, and so take `--no-color`. */
const COLOURED_COMMANDS = ['validate', 'plan', 'apply'];

/**
 * Colour for one run of the CLI: `colors()` answers for the command being run, once `install`
 * has added `--no-color` to the coloured commands and commander has parsed it.
 */
export function colourSwitch(
  stdout: { readonly isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): { colors(): Colors; install(program: Command): void } {
  let flag: boolean | undefined;
  return {
    colors: () => colors(colourWanted({ flag, env, isTTY: stdout.isTTY })),
    install(program) {
      for (const command of program.commands) {
        if (!COLOURED_COMMANDS.includes(command.name())) continue;
        command.option(
          '--no-color',
          'no colour (also NO_COLOR=1; never when stdout is not a terminal)',
        );
      }
      program.hook('preAction', (_root, command) => {
        flag = command.opts()['color'] as boolean | undefined;
      });
    },
  };
}
