/**
 * The GitHub Action (action.yml) and examples/github-actions/entrasync.yml, end to end outside
 * GitHub: a temporary git repository holds only the example's config files (no package.json),
 * its target switched to the embedded simulated tenant (state outside the repository, shared by
 * every job as the real tenant is). Each job's entrasync step runs through the action's entry
 * step with the inputs the workflow gives it and the variables GitHub sets
 * (test/examples/github-action-runner.ts): plan on the pull request's checkout (the merge ref)
 * with the base branch as baseline, the saved plan carried as the artifact to the merge commit's
 * shallow checkout and applied with HEAD^ as baseline, then an empty re-plan, the nightly
 * snapshot and a fork's plan against it; a pull request that lifts protection and changes the
 * account is held (exit 3 as an output, the step still succeeds). Then: every `uses:` is pinned
 * by commit SHA, and the workflow uses only inputs and outputs the action declares.
 *
 * The action's install step (npm ci in its own checkout) needs the network and is not run: the
 * entry step runs this repository's built dist/ (npm run build).
 */
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTenantStore } from '../../simulator/index.js';
import type { ActionRun, Step } from './github-action-runner.js';
import {
  ACTION_FILE,
  REPO_ROOT,
  WORKFLOW_FILE,
  readAction,
  readWorkflow,
  runAction,
  runShellStep,
  stepUsing,
  usesIn,
  workflowStep,
} from './github-action-runner.js';

const EXAMPLE = join(REPO_ROOT, 'examples', 'github-actions');
const SEED = join(REPO_ROOT, 'examples', 'quickstart', 'tenant.json');
const CONFIG_DIR = 'entrasync'; // where the example's README says to put its config directory

const root = mkdtempSync(join(tmpdir(), 'entrasync-gh-action-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const origin = join(root, 'origin.git');
const maintainer = join(root, 'maintainer');
const tenantDb = join(root, 'tenant', 'tenant.db');

const gitEnv = {
  PATH: process.env['PATH'],
  HOME: root,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Reviewer',
  GIT_AUTHOR_EMAIL: 'reviewer@contoso.com',
  GIT_COMMITTER_NAME: 'Reviewer',
  GIT_COMMITTER_EMAIL: 'reviewer@contoso.com',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8', stdio: 'pipe' }).trim();
}

/** A fresh checkout as actions/checkout makes it: `depth` 0 is the whole history. */
function checkout(name: string, ref: string, depth: number): string {
  const dir = join(root, name);
  const deep = depth === 0 ? [] : ['--depth', String(depth), '--no-single-branch'];
  git(root, 'clone', '--quiet', ...deep, `file://${origin}`, dir);
  git(dir, 'checkout', '--quiet', '--detach', ref);
  return dir;
}

/** A pull request's checkout: refs/pull/N/merge, the head merged into the base branch. */
function pullRequestCheckout(name: string, branch: string): string {
  const dir = checkout(name, 'origin/main', 0);
  git(dir, 'merge', '--quiet', '--no-ff', '--no-edit', `origin/${branch}`);
  return dir;
}

/** The example's config with its target replaced by the embedded simulated tenant. */
function simulatedConfig(): string {
  const text = readFileSync(join(EXAMPLE, CONFIG_DIR, 'entrasync.yaml'), 'utf8');
  const target = [
    'target:',
    '  auth: { method: simulator }',
    `  simulator: { state: ${JSON.stringify(tenantDb)}, seed: ${JSON.stringify(SEED)} }`,
    '',
    '',
  ].join('\n');
  const replaced = text.replace(/^target:\n(?:(?:[ #].*)?\n)*?(?=^sources:)/m, target);
  expect(replaced).not.toBe(text);
  return replaced;
}

/** In the maintainer's clone: a branch from main with `edit` committed, pushed. */
function pullRequest(branch: string, edit: (dir: string) => void): void {
  git(maintainer, 'checkout', '--quiet', '-B', branch, 'main');
  edit(join(maintainer, CONFIG_DIR));
  git(maintainer, 'commit', '--quiet', '-am', branch);
  git(maintainer, 'push', '--quiet', 'origin', branch);
}

/** Squash-merges the branch into main and pushes: the commit the apply job runs on. */
function squashMerge(branch: string): string {
  git(maintainer, 'checkout', '--quiet', 'main');
  git(maintainer, 'merge', '--quiet', '--squash', branch);
  git(maintainer, 'commit', '--quiet', '-m', `${branch} (#1)`);
  git(maintainer, 'push', '--quiet', 'origin', 'main');
  return git(maintainer, 'rev-parse', 'HEAD');
}

function tenantUser(upn: string): Record<string, unknown> | undefined {
  const store = openTenantStore(tenantDb);
  try {
    return store.listUsers().find((u) => u.userPrincipalName === upn);
  } finally {
    store.close();
  }
}

function runStep(
  step: Step,
  workspace: string,
  github: Record<string, string>,
  env?: Record<string, string>,
): ActionRun {
  return runAction(step, { workspace, github, scratch: root, ...(env ? { env } : {}) });
}

/**
 * GitHub's artifact store and the `gh` CLI the apply job's history step calls: a stand-in (no
 * GitHub here) that answers `gh run list` with the runs that kept artifacts, newest first, and
 * `gh run download <run> --name <artifact> --dir <dir>` from them, failing for a run without
 * that artifact as gh does.
 */
const artifacts = join(root, 'artifacts');
const fakeGhPath = join(root, 'bin');
function installFakeGh(): void {
  mkdirSync(fakeGhPath, { recursive: true });
  writeFileSync(
    join(fakeGhPath, 'gh'),
    [
      '#!/usr/bin/env bash',
      'set -euo pipefail',
      'case "$1 $2" in',
      '  "run list") ls "$FAKE_GH_ARTIFACTS" 2>/dev/null | sort -rn ;;',
      '  "run download")',
      '    id="$3"; shift 3; name=""; dir="."',
      '    while [ $# -gt 0 ]; do case "$1" in --name) name="$2"; shift 2;; --dir) dir="$2"; shift 2;; *) shift;; esac; done',
      '    [ -d "$FAKE_GH_ARTIFACTS/$id/$name" ] || { echo "no artifact $name in run $id" >&2; exit 1; }',
      '    mkdir -p "$dir"; cp -R "$FAKE_GH_ARTIFACTS/$id/$name/." "$dir/" ;;',
      '  *) echo "unexpected: gh $*" >&2; exit 2 ;;',
      'esac',
    ].join('\n'),
    { mode: 0o755 },
  );
}
const ghEnv = (runId: string) => ({
  PATH: `${fakeGhPath}:${process.env['PATH'] ?? ''}`,
  FAKE_GH_ARTIFACTS: artifacts,
  GITHUB_RUN_ID: runId,
});

/** The upload step: the file it names, kept as run `runId`'s artifact of that name. */
function uploadArtifact(job: string, name: string, workspace: string, runId: string): void {
  const upload = stepUsing(job, 'actions/upload-artifact', name);
  const path = String(upload.with?.['path']);
  mkdirSync(join(artifacts, runId, name), { recursive: true });
  cpSync(join(workspace, path), join(artifacts, runId, name, path.split('/').at(-1)!));
}

/** The changes `entrasync report` shows from a history file: `<action> <message>` each. */
function reportOf(history: string): string[] {
  const out = execFileSync(
    process.execPath,
    [join(REPO_ROOT, 'dist', 'cli', 'main.js'), 'report', '--history', history, '-f', 'json'],
    { encoding: 'utf8' },
  );
  const report = JSON.parse(out) as {
    events: { action: string; message: string; outcome: string }[];
  };
  return report.events.map((e) => `${e.action} ${e.outcome}: ${e.message}`);
}

const pullRequestContext = (branch: string) => ({
  event_name: 'pull_request',
  base_ref: 'main',
  head_ref: branch,
  ref: 'refs/pull/1/merge',
});

beforeAll(() => {
  expect(existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js')), 'run `npm run build` first').toBe(
    true,
  );
  mkdirSync(join(root, 'tenant'));
  installFakeGh();
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', origin);
  git(root, 'clone', '--quiet', `file://${origin}`, maintainer);
  mkdirSync(join(maintainer, CONFIG_DIR));
  mkdirSync(join(maintainer, '.github', 'workflows'), { recursive: true });
  writeFileSync(join(maintainer, CONFIG_DIR, 'entrasync.yaml'), simulatedConfig());
  cpSync(join(EXAMPLE, CONFIG_DIR, 'employees.csv'), join(maintainer, CONFIG_DIR, 'employees.csv'));
  cpSync(WORKFLOW_FILE, join(maintainer, '.github', 'workflows', 'entrasync.yml'));
  git(maintainer, 'add', '.');
  git(maintainer, 'commit', '--quiet', '-m', 'entrasync config');
  git(maintainer, 'push', '--quiet', '-u', 'origin', 'main');
});

describe('examples/github-actions on the action: a repository of config files only', () => {
  let planRun: ActionRun;
  let prCheckout: string;

  it('the repository holds config files and the workflow, no Node project', () => {
    expect(git(maintainer, 'ls-files').split('\n').sort()).toEqual([
      '.github/workflows/entrasync.yml',
      'entrasync/employees.csv',
      'entrasync/entrasync.yaml',
    ]);
  });

  it('pull request: plan with the base branch as baseline, markdown comment, saved plan', () => {
    pullRequest('add-joiner', (dir) =>
      appendFileSync(
        join(dir, 'employees.csv'),
        '1056,Zoë,Quinn,Engineering,Software Engineer,London,GB,active\n',
      ),
    );
    prCheckout = pullRequestCheckout('pr-add-joiner', 'add-joiner');
    const step = workflowStep('plan', 'plan');
    planRun = runStep(step, prCheckout, pullRequestContext('add-joiner'));

    expect(planRun.stderr).not.toMatch(/"level":(50|60)/);
    expect(planRun.status).toBe(0);
    const planFile = join(prCheckout, String(step.with?.['plan-file']));
    const saved = JSON.parse(readFileSync(planFile, 'utf8')) as { fingerprint: string };
    expect(planRun.outputs).toMatchObject({
      'exit-code': '2',
      result: 'changes',
      changes: 'true',
      held: 'false',
      fingerprint: saved.fingerprint,
      version: (
        JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
      ).version,
    });
    expect(saved.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const markdown = readFileSync(join(prCheckout, planRun.outputs['markdown']!), 'utf8');
    expect(planRun.outputs['markdown']).toBe(step.with?.['markdown']);
    expect(markdown.startsWith('<!-- entrasync-plan -->')).toBe(true);
    expect(markdown).toContain(`entrasync plan \`${saved.fingerprint.slice(0, 12)}\``);
    expect(markdown).toContain('`zoe.quinn@contoso.com`');
    // The baseline reached the plan: the protect-lift check ran against origin/main.
    expect(markdown).not.toContain('protect-lift check not run');
    expect(planRun.summary).toContain(markdown.trim());
    // The HTML plan beside plan.json, so the plan artifact (the folder) carries it.
    const upload = stepUsing('plan', 'actions/upload-artifact', 'entrasync-plan');
    expect(planRun.outputs['html']).toBe(`${String(upload.with?.['path'])}plan.html`);
    const html = readFileSync(join(prCheckout, planRun.outputs['html']!), 'utf8');
    expect(html).toContain(`<title>entrasync plan ${saved.fingerprint.slice(0, 12)}</title>`);
    expect(html).toContain('zoe.quinn@contoso.com');
    // The comment step posts that file.
    const comment = readWorkflow().jobs['plan']!.steps.find((s) =>
      s.uses?.startsWith('actions/github-script@'),
    );
    expect(comment?.env?.['MARKDOWN']).toBe(step.with?.['markdown']);
    expect(comment?.if).toContain(`hashFiles('${String(step.with?.['markdown'])}')`);
    // plan never writes: the tenant does not have the joiner yet.
    expect(tenantUser('zoe.quinn@contoso.com')).toBeUndefined();
  });

  it('merge: the saved plan, carried as the artifact, is applied on the merge commit with HEAD^', () => {
    const upload = stepUsing('plan', 'actions/upload-artifact', 'entrasync-plan');
    const download = stepUsing('apply', 'actions/download-artifact', 'entrasync-plan');
    const merge = squashMerge('add-joiner');
    const fetchDepth = Number(readWorkflow().jobs['apply']!.steps[0]!.with?.['fetch-depth']);
    expect(fetchDepth).toBe(2);
    const applyCheckout = checkout('apply', merge, fetchDepth);
    // The artifact: what the plan job uploaded, where the apply job downloads it.
    cpSync(
      join(prCheckout, String(upload.with?.['path'])),
      join(applyCheckout, String(download.with?.['path'])),
      {
        recursive: true,
      },
    );

    // The first apply: no earlier history to restore.
    const restore = runShellStep(
      workflowStep('apply', 'restore-history'),
      { workspace: applyCheckout, github: {} },
      ghEnv('4242'),
    );
    expect(restore.stderr).toBe('');
    expect(restore.status).toBe(0);
    expect(restore.stdout).toContain('no earlier apply history');

    const applyStep = workflowStep('apply', 'apply');
    const run = runStep(applyStep, applyCheckout, {
      event_name: 'push',
      ref: 'refs/heads/main',
      sha: merge,
    });
    expect(run.stdout).toContain(' 0 failed, 0 skipped, 0 not run.');
    // Every apply writes history; the workflow keeps it as an artifact.
    expect(run.outputs['history']).toBe(applyStep.with?.['history']);
    const history = join(applyCheckout, run.outputs['history']!);
    expect(reportOf(history)).toContainEqual(
      expect.stringMatching(/^createUser applied: create zoe\.quinn@contoso\.com /),
    );
    uploadArtifact('apply', 'entrasync-history', applyCheckout, '4242');
    expect(run.status).toBe(0);
    expect(run.outputs).toMatchObject({
      'exit-code': '0',
      result: 'applied',
      held: 'false',
      fingerprint: planRun.outputs['fingerprint'],
    });
    expect(run.summary).toContain('### entrasync apply');
    expect(tenantUser('zoe.quinn@contoso.com')).toMatchObject({
      displayName: 'Zoë Quinn',
      employeeId: '1056',
      accountEnabled: true,
    });

    const again = runStep(workflowStep('plan', 'plan'), applyCheckout, pullRequestContext('main'));
    expect(again.status).toBe(0);
    expect(again.outputs).toMatchObject({
      'exit-code': '0',
      result: 'no-changes',
      changes: 'false',
    });
  });

  it('R1: the next merge restores the earlier apply history and adds to it: report covers both', () => {
    pullRequest('add-second-joiner', (dir) =>
      appendFileSync(
        join(dir, 'employees.csv'),
        '1057,Ines,Duarte,Finance,Accountant,Lisbon,PT,active\n',
      ),
    );
    const pr = pullRequestCheckout('pr-second-joiner', 'add-second-joiner');
    const plan = runStep(workflowStep('plan', 'plan'), pr, pullRequestContext('add-second-joiner'));
    expect(plan.outputs['result']).toBe('changes');
    const merge = squashMerge('add-second-joiner');
    const applyCheckout = checkout('apply-2', merge, 2);
    const upload = stepUsing('plan', 'actions/upload-artifact', 'entrasync-plan');
    const download = stepUsing('apply', 'actions/download-artifact', 'entrasync-plan');
    cpSync(
      join(pr, String(upload.with?.['path'])),
      join(applyCheckout, String(download.with?.['path'])),
      { recursive: true },
    );

    const restore = runShellStep(
      workflowStep('apply', 'restore-history'),
      { workspace: applyCheckout, github: {} },
      ghEnv('4343'),
    );
    expect(restore.status).toBe(0);
    expect(restore.stdout).toContain('history of run 4242 restored');
    const run = runStep(
      workflowStep('apply', 'apply'),
      applyCheckout,
      { event_name: 'push', ref: 'refs/heads/main', sha: merge },
      { GITHUB_RUN_ID: '4343' },
    );
    expect(run.outputs['result']).toBe('applied');
    const report = reportOf(join(applyCheckout, run.outputs['history']!));
    expect(report).toContainEqual(
      expect.stringMatching(/^createUser applied: create zoe\.quinn@contoso\.com /),
    );
    expect(report).toContainEqual(
      expect.stringMatching(/^createUser applied: create ines\.duarte@contoso\.com /),
    );
    // The upload keeps it also when the apply failed or held changes.
    const keep = stepUsing('apply', 'actions/upload-artifact', 'entrasync-history');
    expect(keep.if).toBe("always() && hashFiles('history/history.db') != ''");
    expect(keep.with?.['path']).toBe(workflowStep('apply', 'apply').with?.['history']);
  });

  it('nightly snapshot, and a fork pull request planned against it without credentials', () => {
    const nightly = checkout('nightly', 'origin/main', 1);
    const snapshotStep = workflowStep('snapshot', 'snapshot');
    const snap = runStep(snapshotStep, nightly, { event_name: 'schedule', ref: 'refs/heads/main' });
    expect(snap.status).toBe(0);
    expect(snap.outputs).toMatchObject({ 'exit-code': '0', result: 'saved' });
    const snapshotFile = join(nightly, String(snapshotStep.with?.['tenant-snapshot']));
    expect(readdirSync(join(nightly, 'snapshot'))).toEqual(['tenant-snapshot.json']);

    const fork = checkout('fork', 'origin/main', 0);
    const forkPlan = workflowStep('plan-fork', 'plan');
    const download = stepUsing('plan-fork', 'actions/download-artifact', 'tenant-snapshot');
    mkdirSync(join(fork, String(download.with?.['path'])));
    cpSync(snapshotFile, join(fork, String(forkPlan.with?.['tenant-snapshot'])));
    // No simulated tenant within reach: the plan can only have come from the snapshot.
    renameSync(join(root, 'tenant'), join(root, 'tenant-away'));
    try {
      const run = runStep(forkPlan, fork, pullRequestContext('fork-change'));
      expect(run.status).toBe(0);
      expect(run.outputs).toMatchObject({
        result: 'no-changes',
        markdown: expect.stringContaining('entrasync-plan.md'),
      });
      expect(run.summary).toContain('<!-- entrasync-plan -->');
      expect(existsSync(tenantDb)).toBe(false);
    } finally {
      rmSync(join(root, 'tenant'), { recursive: true, force: true });
      renameSync(join(root, 'tenant-away'), join(root, 'tenant'));
    }
  });
});

describe('examples/github-actions: held changes are an output, the workflow decides', () => {
  it('a pull request that lifts protection and changes the account: held (exit 3), the step succeeds', () => {
    // On main: Emily's account is protected.
    git(maintainer, 'checkout', '--quiet', 'main');
    editFile(join(maintainer, CONFIG_DIR, 'entrasync.yaml'), (t) =>
      t.replace(
        'protect: [breakglass@contoso.onmicrosoft.com]',
        'protect: [breakglass@contoso.onmicrosoft.com, emily.martinez@contoso.com]',
      ),
    );
    git(maintainer, 'commit', '--quiet', '-am', 'protect Emily');
    git(maintainer, 'push', '--quiet', 'origin', 'main');
    // The pull request lifts it and disables her in one go.
    pullRequest('lift-and-disable', (dir) => {
      editFile(join(dir, 'entrasync.yaml'), (t) => t.replace(', emily.martinez@contoso.com]', ']'));
      editFile(join(dir, 'employees.csv'), (t) =>
        t.replace(
          '1001,Emily,Martinez,Marketing,Marketing Manager,London,GB,active',
          '1001,Emily,Martinez,Marketing,Marketing Manager,London,GB,terminated',
        ),
      );
    });
    const dir = pullRequestCheckout('pr-lift', 'lift-and-disable');
    const step = workflowStep('plan', 'plan');

    const held = runStep(step, dir, pullRequestContext('lift-and-disable'));
    expect(held.status).toBe(0);
    expect(held.outputs).toMatchObject({
      'exit-code': '3',
      result: 'held',
      held: 'true',
      changes: 'true',
    });
    expect(held.stdout).toContain('::warning title=entrasync::');
    expect(held.summary).toContain('emily.martinez@contoso.com');
    // The workflow fails the check on that output.
    const failStep = readWorkflow().jobs['plan']!.steps.find(
      (s) => s.if === "steps.plan.outputs.held == 'true'",
    );
    expect(failStep?.run).toContain('exit 1');

    // Without the baseline the same change is a plain disable: the input is what holds it.
    const unguarded = runStep(
      { ...step, with: { ...step.with, baseline: '' } },
      dir,
      pullRequestContext('lift-and-disable'),
    );
    expect(unguarded.outputs).toMatchObject({ 'exit-code': '2', result: 'changes', held: 'false' });
    expect(tenantUser('emily.martinez@contoso.com')?.['accountEnabled']).toBe(true);
  });

  it('an error fails the step, after the outputs; apply without a reviewed plan is refused', () => {
    const dir = checkout('errors', 'origin/main', 1);
    const broken = runStep(
      { with: { command: 'plan', config: 'missing.yaml' } },
      dir,
      pullRequestContext('x'),
    );
    expect(broken.status).toBe(1);
    expect(broken.outputs).toMatchObject({ 'exit-code': '1', result: 'error' });
    const markdown = readFileSync(broken.outputs['markdown']!, 'utf8');
    expect(markdown).toContain('entrasync plan failed');
    expect(markdown).toContain('https://github.com/contoso/identity/actions/runs/4242');

    const unreviewed = runStep(
      { with: { command: 'apply', config: 'entrasync/entrasync.yaml' } },
      dir,
      { event_name: 'push' },
    );
    expect(unreviewed.status).toBe(1);
    expect(unreviewed.stdout).toContain('apply needs `plan-file`');
    // Asked for explicitly, apply plans and applies at once (--auto-approve: stdin is no
    // terminal); main's config is applied already, so there is nothing to do.
    const approved = runStep(
      { with: { command: 'apply', config: 'entrasync/entrasync.yaml', 'auto-approve': 'true' } },
      dir,
      { event_name: 'schedule' },
    );
    expect(approved.status).toBe(0);
    expect(approved.outputs).toMatchObject({
      'exit-code': '0',
      result: 'applied',
      fingerprint: '',
    });

    const otherVersion = runStep({ with: { command: 'plan', version: '99.0.0' } }, dir, {
      event_name: 'push',
    });
    expect(otherVersion.status).toBe(1);
    expect(otherVersion.stdout).toMatch(
      /::error title=entrasync::this action is entrasync \S+ and installs nothing else/,
    );
  });
});

describe('the action and the example workflow', () => {
  const files = {
    'action.yml': ACTION_FILE,
    'examples/github-actions/entrasync.yml': WORKFLOW_FILE,
  };

  it('pin every action by a full commit SHA, the version in a comment', () => {
    for (const [name, file] of Object.entries(files)) {
      const text = readFileSync(file, 'utf8');
      const uses = usesIn(text);
      // The pattern found every `uses:` the YAML holds.
      expect(uses.length, name).toBe(stepsOf(file).filter((s) => s.uses !== undefined).length);
      expect(uses.length, name).toBeGreaterThan(0);
      for (const { ref, comment } of uses) {
        expect(ref, `${name}: ${ref}`).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/);
        expect(comment, `${name}: ${ref}`).toMatch(/^v\d+\.\d+\.\d+\b/);
      }
    }
    // The workflow runs entrasync only through the action.
    const workflow = readFileSync(WORKFLOW_FILE, 'utf8');
    expect(workflow).not.toMatch(/\bnpx\b|npm (ci|install|exec)/);
    expect(usesIn(workflow).filter((u) => u.ref.startsWith('OWNER/entrasync@')).length).toBe(4);
  });

  it('put no expression inside a script (inputs go through env)', () => {
    for (const file of Object.values(files)) {
      for (const step of stepsOf(file))
        expect(step.run ?? '', step.name ?? step.id).not.toContain('${{');
    }
  });

  it('the workflow gives only inputs the action declares and reads only outputs it has', () => {
    const action = readAction();
    expect(action.runs.using).toBe('composite');
    for (const [job, { steps }] of Object.entries(readWorkflow().jobs)) {
      const ours = steps.filter((s) => s.uses?.startsWith('OWNER/entrasync@'));
      for (const step of ours) {
        for (const input of Object.keys(step.with ?? {}))
          expect(Object.keys(action.inputs), `${job}: ${input}`).toContain(input);
      }
      const ids = new Set(ours.map((s) => s.id));
      const text = JSON.stringify(steps);
      for (const [, id, output] of text.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        if (ids.has(id))
          expect(Object.keys(action.outputs), `${job}: ${id}.${output}`).toContain(output);
      }
    }
  });
});

function editFile(file: string, edit: (text: string) => string): void {
  const before = readFileSync(file, 'utf8');
  const after = edit(before);
  expect(after).not.toBe(before);
  writeFileSync(file, after);
}

/** The steps of a workflow's jobs, or of a composite action. */
function stepsOf(file: string): Step[] {
  if (file === ACTION_FILE) return readAction().runs.steps;
  return Object.values(readWorkflow().jobs).flatMap((j) => j.steps);
}
