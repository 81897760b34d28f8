/**
 * Runs this repository's GitHub Action (action.yml) the way the Actions runner runs a composite
 * action, for test/examples/github-action.test.ts: the inputs are a workflow step's `with:`
 * (its `${{ … }}` expressions evaluated) over action.yml's defaults; the entry step's `env:` is
 * evaluated with them and its `run:` goes to bash with the variables GitHub sets (GITHUB_OUTPUT,
 * GITHUB_STEP_SUMMARY, RUNNER_TEMP, GITHUB_ACTION_PATH, …); the action's outputs are read back
 * through action.yml's `outputs:`. The install step (npm ci in the action's checkout) is not run:
 * GITHUB_ACTION_PATH is this repository, whose built dist/ stands in for it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const ACTION_FILE = join(REPO_ROOT, 'action.yml');
export const WORKFLOW_FILE = join(REPO_ROOT, 'examples', 'github-actions', 'entrasync.yml');

export interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly with?: Record<string, string | number | boolean>;
  readonly env?: Record<string, string>;
}

interface ActionFile {
  readonly inputs: Record<string, { required?: boolean; default?: string }>;
  readonly outputs: Record<string, { value: string }>;
  readonly runs: { using: string; steps: Step[] };
}

interface WorkflowFile {
  readonly jobs: Record<string, { steps: Step[] }>;
}

export function readAction(): ActionFile {
  return parse(readFileSync(ACTION_FILE, 'utf8')) as ActionFile;
}

export function readWorkflow(): WorkflowFile {
  return parse(readFileSync(WORKFLOW_FILE, 'utf8')) as WorkflowFile;
}

/** The step of `job` whose id is `id`; throws when the workflow has none. */
export function workflowStep(job: string, id: string): Step {
  const step = readWorkflow().jobs[job]?.steps.find((s) => s.id === id);
  if (!step) throw new Error(`examples/github-actions/entrasync.yml: no step ${job}.${id}`);
  return step;
}

/** The step of `job` that uses an action whose reference starts with `action`. */
export function stepUsing(job: string, action: string, name: string): Step {
  const step = readWorkflow().jobs[job]?.steps.find(
    (s) => s.uses?.startsWith(`${action}@`) && s.with?.['name'] === name,
  );
  if (!step)
    throw new Error(`examples/github-actions/entrasync.yml: ${job} has no ${action} of ${name}`);
  return step;
}

/**
 * `${{ name }}` replaced by `lookup(name)`: only plain context names (the workflow and the
 * action use no operators in the places evaluated here). An unknown name throws.
 */
export function evaluate(text: string, lookup: (name: string) => string | undefined): string {
  return text.replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (_, name: string) => {
    const value = lookup(name);
    if (value === undefined) throw new Error(`no value for \${{ ${name} }} in "${text}"`);
    return value;
  });
}

/** Every `uses:` reference in a YAML file's text, with the comment on its line. */
export function usesIn(text: string): { ref: string; comment: string }[] {
  return [...text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)[ \t]*(?:#\s*(.*))?$/gm)].map((m) => ({
    ref: m[1]!,
    comment: (m[2] ?? '').trim(),
  }));
}

/** Step outputs as the runner reads them from GITHUB_OUTPUT: `name=value` and `name<<EOF`. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      outputs[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}

export interface GitHubRun {
  /** The checkout: GITHUB_WORKSPACE and the step's working directory. */
  readonly workspace: string;
  /** `github.*` context values the step's expressions use (`base_ref`, …), without `github.`. */
  readonly github: Record<string, string>;
  /** Job-level `env:` and the like. */
  readonly env?: Record<string, string>;
  /** Where RUNNER_TEMP and the runner's files go (the caller removes it); default the OS temp. */
  readonly scratch?: string;
}

export interface ActionRun {
  /** The entry step's exit status (the step fails when it is not 0). */
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The action's outputs, through action.yml's `outputs:`. */
  readonly outputs: Record<string, string>;
  readonly summary: string;
}

/** The action's inputs for a workflow step's `with:`, as the runner forms them. */
export function inputsFor(step: Step, github: Record<string, string>): Record<string, string> {
  const action = readAction();
  const given = step.with ?? {};
  for (const name of Object.keys(given)) {
    if (!(name in action.inputs)) throw new Error(`action.yml has no input "${name}"`);
  }
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.inputs)) {
    const value = given[name];
    if (value === undefined && spec.required) throw new Error(`input "${name}" is required`);
    inputs[name] =
      value === undefined
        ? (spec.default ?? '')
        : evaluate(String(value), (n) =>
            n.startsWith('github.') ? github[n.slice(7)] : undefined,
          );
  }
  return inputs;
}

/** Runs the action's entry step (id `run`) for a workflow step. */
export function runAction(step: Step, run: GitHubRun): ActionRun {
  const action = readAction();
  const entry = action.runs.steps.find((s) => s.id === 'run');
  if (!entry?.run) throw new Error('action.yml has no entry step with id "run"');
  const inputs = inputsFor(step, run.github);
  const temp = mkdtempSync(join(run.scratch ?? tmpdir(), 'runner-'));
  const files = {
    GITHUB_OUTPUT: join(temp, 'output'),
    GITHUB_STEP_SUMMARY: join(temp, 'summary'),
    GITHUB_ENV: join(temp, 'env'),
    GITHUB_PATH: join(temp, 'path'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');
  const stepEnv = Object.fromEntries(
    Object.entries(entry.env ?? {}).map(([k, v]) => [
      k,
      evaluate(v, (n) => (n.startsWith('inputs.') ? inputs[n.slice(7)] : undefined)),
    ]),
  );
  const child = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', entry.run], {
    cwd: run.workspace,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      RUNNER_OS: 'Linux',
      RUNNER_TEMP: temp,
      GITHUB_WORKSPACE: run.workspace,
      GITHUB_ACTION_PATH: REPO_ROOT,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'contoso/identity',
      GITHUB_RUN_ID: '4242',
      ...Object.fromEntries(
        Object.entries(run.github).map(([k, v]) => [`GITHUB_${k.toUpperCase()}`, v]),
      ),
      ...run.env,
      ...files,
      ...stepEnv,
    },
  });
  const stepOutputs = parseOutputFile(readFileSync(files.GITHUB_OUTPUT, 'utf8'));
  const outputs = Object.fromEntries(
    Object.entries(action.outputs).map(([name, spec]) => [
      name,
      evaluate(spec.value, (n) =>
        n.startsWith('steps.run.outputs.') ? (stepOutputs[n.slice(18)] ?? '') : undefined,
      ),
    ]),
  );
  return {
    status: child.status ?? -1,
    stdout: child.stdout,
    stderr: child.stderr,
    outputs,
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
  };
}

/**
 * Runs a workflow's own `run:` step (not the action) with bash in the workspace, its `env:`
 * evaluated (`github.token` is a placeholder), as the runner does for a shell step. `extraEnv`
 * adds to and overrides the runner's variables (a PATH with a stand-in `gh`, another run id).
 */
export function runShellStep(
  step: Step,
  run: GitHubRun,
  extraEnv: Record<string, string> = {},
): { status: number; stdout: string; stderr: string } {
  if (!step.run) throw new Error(`step ${step.id ?? step.name} has no run:`);
  const env = Object.fromEntries(
    Object.entries(step.env ?? {}).map(([k, v]) => [
      k,
      evaluate(v, (n) => (n === 'github.token' ? 'ghs_placeholder' : undefined)),
    ]),
  );
  const child = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], {
    cwd: run.workspace,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: run.workspace,
      GITHUB_REPOSITORY: 'contoso/identity',
      GITHUB_RUN_ID: '4242',
      ...run.env,
      ...env,
      ...extraEnv,
    },
  });
  return { status: child.status ?? -1, stdout: child.stdout, stderr: child.stderr };
}
