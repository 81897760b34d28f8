/**
 * Every command's `--help` ends with examples and exit codes, and `completion` prints scripts
 * that know every command. The command list comes from the CLI's own `--help`, so a command
 * added later without help text or missing from completion fails here.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cli as run } from '../test/helpers/cli.js';

/** Command names listed under "Commands:" of a help text (commander's `help` left out). */
function commandsIn(help: string): string[] {
  // The section ends at the first blank line (examples and exit codes follow it).
  const section = help.split('\nCommands:\n')[1]?.split('\n\n')[0];
  if (!section) return [];
  return section
    .split('\n')
    .map((line) => /^ {2}(\S+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}

/** Every command path, from the root's help down: `['plan'], ['simulator', 'seed'], ...`. */
async function commandPaths(prefix: string[] = []): Promise<string[][]> {
  const help = await run(...prefix, '--help');
  expect(help.code).toBe(0);
  const paths: string[][] = [];
  for (const name of commandsIn(help.stdout)) {
    paths.push([...prefix, name]);
    paths.push(...(await commandPaths([...prefix, name])));
  }
  return paths;
}

describe('--help of each command', () => {
  it('shows an example and the exit codes', async () => {
    const paths = await commandPaths();
    expect(paths.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining(['validate', 'plan', 'apply', 'simulator seed', 'completion']),
    );
    for (const path of paths) {
      const help = await run(...path, '--help');
      expect(help.code, path.join(' ')).toBe(0);
      expect(help.stdout, path.join(' ')).toMatch(/\nExamples?:\n {2}\$ entrasync /);
      expect(help.stdout, path.join(' ')).toMatch(/\nExit codes:\n {2}0 {2}\S/);
    }
  });
});

describe('completion', () => {
  /** Runs the bash script's completion function on `words` (the last one being completed). */
  function completeBash(script: string, words: string[]): string[] {
    const r = spawnSync(
      'bash',
      [
        '-c',
        `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _entrasync_completion; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean);
  }

  it('bash: lists every command, each command its options, and option choices', async () => {
    const r = await run('completion', 'bash');
    expect(r.code).toBe(0);
    const commands = commandsIn((await run('--help')).stdout);
    expect(commands.length).toBeGreaterThan(8);
    expect(completeBash(r.stdout, ['entrasync', ''])).toEqual(expect.arrayContaining(commands));
    expect(completeBash(r.stdout, ['entrasync', 'ap'])).toEqual(['apply']);
    expect(completeBash(r.stdout, ['entrasync', 'apply', '--au'])).toEqual(['--auto-approve']);
    expect(completeBash(r.stdout, ['entrasync', 'plan', '--format', ''])).toEqual([
      'text',
      'json',
      'markdown',
      'html',
    ]);
    expect(completeBash(r.stdout, ['entrasync', 'simulator', ''])).toContain('seed');
    expect(completeBash(r.stdout, ['entrasync', 'simulator', 'seed', '--u'])).toEqual(['--users']);
  });

  it('zsh reuses the bash function through bashcompinit; fish names every command', async () => {
    const zsh = await run('completion', 'zsh');
    expect(zsh.stdout).toMatch(
      /^#compdef entrasync\nautoload -U \+X bashcompinit && bashcompinit\n/,
    );
    expect(zsh.stdout).toContain('complete -o default -F _entrasync_completion entrasync');
    const fish = await run('completion', 'fish');
    for (const name of commandsIn((await run('--help')).stdout)) {
      expect(fish.stdout).toMatch(
        new RegExp(`^complete -c entrasync -n '[^']*' -f -a ${name} `, 'm'),
      );
    }
    expect(fish.stdout).toContain("-l format -s f -xa 'text json markdown html'");
  });

  it('an unknown shell is a usage error (exit 1)', async () => {
    const r = await run('completion', 'powershell');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bash, zsh, fish');
  });
});
