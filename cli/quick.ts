/**
 * `entrasync --help` and `entrasync --version` answered without loading the commands: building
 * the full program (cli/program.ts) imports every command's modules, and with them the Graph
 * client, @azure/identity, ldapts, better-sqlite3 and jsonata, which costs about a second
 * before anything is printed. This module imports commander and node:fs only.
 *
 * ROOT_COMMANDS repeats the root help's command list (name with arguments, whether it has
 * options, description). cli/quick.test.ts checks that this answer is byte for byte the full
 * program's, so a command added or reworded in program.ts without its line here fails there.
 * Anything else (a command, `help <command>`, no argument) goes to the full program.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { addLogOptions } from './log-option-defs.js';

export const ROOT_DESCRIPTION =
  'Keep a Microsoft Entra ID tenant in the state your config files declare.';

const ROOT_COMMANDS: readonly (readonly [usage: string, options: boolean, description: string])[] =
  [
    [
      'validate',
      true,
      'check the config file: YAML, schema, references and every expression (no secrets, no network)',
    ],
    [
      'plan',
      true,
      'read the sources and the tenant and show what apply would change (never writes)',
    ],
    [
      'apply [plan]',
      true,
      'apply a saved plan (refused if the tenant changed since), or plan and apply now',
    ],
    [
      'explain <person...>',
      true,
      'show how one or more people go through the pipeline: records, scope, mapped values, matched account, changes',
    ],
    [
      'simulator',
      true,
      'run the simulated tenant (Microsoft Graph + token endpoint over HTTPS) until stopped',
    ],
    [
      'daemon',
      true,
      "run on the config's cron `schedule`: plan (default, like Entra Connect staging mode) or plan and apply; serves /healthz and /metrics",
    ],
    [
      'report',
      true,
      'provisioning report from run history: changes by user, action and time span (or --runs)',
    ],
    [
      'show <plan>',
      true,
      'render a plan saved by `plan --out` as text, markdown, JSON or a self-contained HTML page (no config or tenant needed)',
    ],
    [
      'snapshot',
      true,
      'save a tenant read (users with every mappable attribute, privileged accounts) to a file, for `plan --tenant-snapshot`',
    ],
    [
      'import',
      true,
      'adopt an existing tenant: infer the users mapping from the tenant and the sources, write the config, and report which record matches which account and what the first plan does',
    ],
    [
      'doctor',
      true,
      'check a tenant before the first plan: Graph permissions, verified domains, clock skew, marker collisions, SKUs (never writes)',
    ],
    ['completion <shell>', true, 'print a shell completion script: bash, zsh or fish'],
  ];

const QUICK = new Set(['--help', '-h', 'help', '--version', '-V']);

interface Writer {
  write(text: string): unknown;
}

/**
 * The exit code when `argv` is only a root `--help` or `--version` (answered on `out`/`err`);
 * undefined when the full program is needed.
 */
export function quickAnswer(argv: readonly string[], out: Writer, err: Writer): number | undefined {
  if (argv.length !== 1 || !QUICK.has(argv[0]!)) return undefined;
  const root = new Command('entrasync')
    .description(ROOT_DESCRIPTION)
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void out.write(text),
      writeErr: (text) => void err.write(text),
    });
  for (const [usage, options, description] of ROOT_COMMANDS) {
    const command = root.command(usage).description(description);
    // The help lists `[options]` for a command with any option; the stub's is never parsed.
    if (options) command.option('--stub');
  }
  addLogOptions(root);
  try {
    root.parse(argv, { from: 'user' });
  } catch (e) {
    const exit = (e as { exitCode?: number }).exitCode;
    return exit === 0 ? 0 : 1;
  }
  return 0;
}

/** The version in package.json, found above this file (cli/ in the sources, dist/cli/ built). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}
