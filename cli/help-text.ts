/**
 * What `--help` of each command shows after its options: examples to copy and the exit codes it
 * can end with (cli/exit-codes.ts). Keyed by the command's path (`simulator seed`); a command
 * registered without an entry here fails cli/help-text.test.ts.
 */
import type { Command } from 'commander';

interface CommandHelp {
  readonly examples: readonly string[];
  /** Exit code -> when. */
  readonly exitCodes: Readonly<Record<number, string>>;
}

const OK_OR_ERROR = { 0: 'done', 1: 'an error (bad config, unreadable input, bad arguments)' };

export const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  validate: {
    examples: [
      'entrasync validate -c entrasync.yaml',
      'entrasync validate -c entrasync.yaml --format json',
    ],
    exitCodes: { 0: 'the config is valid', 1: 'the config has errors (each as file:line:col)' },
  },
  plan: {
    examples: [
      'entrasync plan -c entrasync.yaml --out plan.json',
      'entrasync plan -c entrasync.yaml --format markdown --baseline origin/main',
    ],
    exitCodes: {
      0: 'no changes',
      1: 'an error (bad config, a failed source, missing permission)',
      2: 'changes are planned',
      3: 'changes are held by safety checks (apply applies the rest)',
    },
  },
  apply: {
    examples: [
      'entrasync apply plan.json -c entrasync.yaml',
      'entrasync apply -c entrasync.yaml --auto-approve --format json',
    ],
    exitCodes: {
      0: 'everything applied, or nothing to apply',
      1: 'an error: a stale plan, a failed change, the run stopped, approval declined, or no --auto-approve where stdin is not a terminal',
      3: 'changes were held by safety checks; the rest was applied (nothing with safety.onBlocked: hold-plan)',
    },
  },
  explain: {
    examples: [
      'entrasync explain 1005 -c entrasync.yaml',
      'entrasync explain hr:1005 --format json',
    ],
    exitCodes: { 0: 'every person was found', 1: 'an error, or a person was not found' },
  },
  simulator: {
    examples: ['entrasync simulator --state .entrasync/tenant.db --port 8443'],
    exitCodes: { 0: 'stopped (Ctrl-C)', 1: 'an error (the state file, the port)' },
  },
  'simulator seed': {
    examples: ['entrasync simulator seed --users 1000 --groups 20 --random-seed 7'],
    exitCodes: OK_OR_ERROR,
  },
  'simulator outbox': {
    examples: [
      'entrasync simulator outbox --state .entrasync/tenant.db',
      'entrasync simulator outbox --format json --body',
    ],
    exitCodes: { 0: 'the outbox was listed', 1: 'an error (no state at that path)' },
  },
  daemon: {
    examples: ['entrasync daemon -c entrasync.yaml --mode plan --port 9464'],
    exitCodes: {
      0: 'stopped by SIGTERM or SIGINT',
      1: 'an error at start (config, history, port)',
    },
  },
  report: {
    examples: [
      'entrasync report -c entrasync.yaml --since 7d --action disable',
      'entrasync report --history history.db --runs --format csv',
      'entrasync report --audit -c entrasync.yaml --since 7d',
    ],
    exitCodes: OK_OR_ERROR,
  },
  show: {
    examples: [
      'entrasync show plan.json',
      'entrasync show plan.json --format markdown >> "$GITHUB_STEP_SUMMARY"',
    ],
    exitCodes: {
      0: 'the plan was shown',
      1: 'the file cannot be read or is not an entrasync plan of this format',
    },
  },
  snapshot: {
    examples: [
      'entrasync snapshot -c entrasync.yaml --out snapshot.json',
      'entrasync plan -c entrasync.yaml --tenant-snapshot snapshot.json',
    ],
    exitCodes: OK_OR_ERROR,
  },
  import: {
    examples: ['entrasync import -c start.yaml --out entrasync.yaml --report import.txt'],
    exitCodes: OK_OR_ERROR,
  },
  doctor: {
    examples: ['entrasync doctor -c entrasync.yaml', 'entrasync doctor -c entrasync.yaml -f json'],
    exitCodes: {
      0: 'no check failed (warnings allowed)',
      1: 'a check failed: a missing permission, an unverified domain, a skewed clock, a marker collision, an unknown SKU or an unreadable source or tenant',
    },
  },
  completion: {
    examples: [
      'entrasync completion bash > /etc/bash_completion.d/entrasync',
      'entrasync completion zsh > "${fpath[1]}/_entrasync"',
      'entrasync completion fish > ~/.config/fish/completions/entrasync.fish',
    ],
    exitCodes: { 0: 'the script was printed', 1: 'an unknown shell' },
  },
};

/** `simulator seed` for the seed subcommand of simulator; the root itself is ''. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Every command below `root`, depth first. */
export function allCommands(root: Command): Command[] {
  return root.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** Adds the examples and exit codes of COMMAND_HELP to each command's `--help`. */
export function addCommandHelp(root: Command): void {
  for (const command of allCommands(root)) {
    const help = COMMAND_HELP[commandPath(command)];
    if (!help) continue;
    const codes = Object.entries(help.exitCodes).map(([code, when]) => `  ${code}  ${when}`);
    command.addHelpText(
      'after',
      [
        '',
        help.examples.length === 1 ? 'Example:' : 'Examples:',
        ...help.examples.map((e) => `  $ ${e}`),
        '',
        'Exit codes:',
        ...codes,
      ].join('\n'),
    );
  }
}
