/**
 * `--baseline <git-ref>` and `--baseline-config <file>` of `plan` and `apply`: the protect list in
 * effect before this config change, for the protect-lift check (P2; engine/pipeline/protect-lift.ts).
 *
 * Stateless, so it works on a fresh CI runner: the baseline is the config file as it was at a git
 * ref (`origin/main` for a pull request, `HEAD^` for the merge), read with `git show` (execFile,
 * no shell) and parsed by the same config loader as the config itself. A config file that did not
 * exist at the ref gives an empty baseline: everything in it is new, nothing was protected.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { parseConfig } from '../config/load.js';
import { EntrasyncError, StalePlanError } from '../engine/errors.js';
import type { Plan, ProtectBaseline } from '../engine/model/plan.js';
import {
  normalizeBaseline,
  protectBaselineOf,
  sameProtectBaseline,
} from '../engine/pipeline/protect-lift.js';

export interface BaselineFlags {
  readonly baseline?: string;
  readonly baselineConfig?: string;
}

/** Adds `--baseline <git-ref>` and `--baseline-config <file>` (one or the other). */
export function addBaselineOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--baseline <git-ref>',
        'the config as it was at this git ref (e.g. origin/main, HEAD^): changes to accounts whose protection this change lifts are blocked',
      ).conflicts('baselineConfig'),
    )
    .addOption(
      new Option(
        '--baseline-config <file>',
        'like --baseline, from a config file (for setups without git)',
      ).conflicts('baseline'),
    );
}

/**
 * The baseline the flags ask for, or undefined when neither is given (commander refuses both:
 * the options conflict).
 */
export async function baselineFrom(
  flags: BaselineFlags,
  configPath: string,
): Promise<ProtectBaseline | undefined> {
  if (flags.baseline !== undefined) return baselineFromGit(configPath, flags.baseline);
  if (flags.baselineConfig !== undefined) return baselineFromFile(flags.baselineConfig);
  return undefined;
}

/** Runs git with arguments (no shell) in `cwd`; rejects with git's stderr. */
const git = (args: readonly string[], cwd: string): Promise<string> =>
  new Promise((done, fail) => {
    execFile(
      'git',
      [...args],
      { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, windowsHide: true },
      (err, stdout, stderr) => {
        if (err) fail(new Error(stderr.trim() || err.message));
        else done(stdout);
      },
    );
  });

/**
 * The protect list of `configPath` as it was at `ref`: `git show <ref>:<path from the repository
 * root>`, parsed like the config (diagnostics name `<ref>:<path>`). Absent at the ref: empty.
 */
export async function baselineFromGit(configPath: string, ref: string): Promise<ProtectBaseline> {
  if (ref === '' || ref.startsWith('-') || /[\s:]/.test(ref)) {
    throw new EntrasyncError('cli.usage', `--baseline: "${ref}" is not a git ref`);
  }
  const file = resolve(configPath);
  const dir = dirname(file);
  let top: string;
  let prefix: string;
  try {
    // One git process for both: the top level on the first line, the prefix (maybe empty) next.
    const [first = '', second = ''] = (
      await git(['rev-parse', '--show-toplevel', '--show-prefix'], dir)
    ).split('\n');
    top = first.trim();
    prefix = second.trim();
  } catch (err) {
    throw new EntrasyncError(
      'baseline.git',
      `--baseline ${ref}: ${configPath} is not in a git work tree (${message(err)}); use --baseline-config <file> instead`,
    );
  }
  let commit: string;
  try {
    commit = (
      await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], top)
    ).trim();
  } catch {
    throw new EntrasyncError(
      'baseline.git',
      `--baseline ${ref}: no such commit in this repository (in CI, fetch it first, e.g. actions/checkout with fetch-depth: 0)`,
    );
  }
  const path = `${prefix}${basename(file)}`;
  const from = `${ref}:${path}`;
  const listed = await git(['ls-tree', '-z', '--name-only', commit, '--', path], top).catch(
    (err: unknown) => {
      throw new EntrasyncError('baseline.git', `--baseline ${from}: ${message(err)}`);
    },
  );
  if (listed.split('\0').every((name) => name !== path)) return { protect: [], from };
  let text: string;
  try {
    text = await git(['show', `${commit}:${path}`], top);
  } catch (err) {
    throw new EntrasyncError('baseline.git', `--baseline ${from}: ${message(err)}`);
  }
  // Relative paths in it resolve where the config is now; the protect list needs none of them.
  const loaded = parseConfig(text, { file: from, baseDir: dir });
  return protectBaselineOf(loaded.spec, from);
}

/** The protect list of another config file (`--baseline-config`), parsed like the config. */
export async function baselineFromFile(path: string): Promise<ProtectBaseline> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? message(err);
    throw new EntrasyncError(
      'baseline.read',
      `--baseline-config: cannot read \`${path}\` (${code})`,
    );
  }
  return protectBaselineOf(parseConfig(text, { file: path }).spec, path);
}

/**
 * A saved plan's baseline is the one that counts: `apply <plan> --baseline X` is refused as stale
 * when X protects other entries than the baseline the plan was made with (or it had none).
 */
export function checkSavedPlanBaseline(plan: Plan, given: ProtectBaseline | undefined): void {
  if (given === undefined) return;
  const check = plan.protectLift;
  const fingerprint = plan.fingerprint.slice(0, 12);
  if (!check?.ran) {
    throw new StalePlanError(
      `plan ${fingerprint} was made without a baseline, but ${describe(given)} was given; plan again with it`,
    );
  }
  if (!sameProtectBaseline(check.baseline, given)) {
    throw new StalePlanError(
      `plan ${fingerprint} was made with the baseline ${describe(check.baseline)}, which protects other accounts than ${describe(given)}; plan again`,
    );
  }
}

function describe(baseline: ProtectBaseline): string {
  const n = normalizeBaseline(baseline).protect.length;
  return `${baseline.from ?? 'baseline'} (${n} protect entr${n === 1 ? 'y' : 'ies'})`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
