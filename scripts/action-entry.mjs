#!/usr/bin/env node
/**
 * The GitHub Action's entry (action.yml): runs one entrasync command with the action's inputs
 * (the INPUT_* environment variables action.yml sets from `inputs`) in the current directory (the
 * workspace), and reports the outcome as step outputs ($GITHUB_OUTPUT), a job summary
 * ($GITHUB_STEP_SUMMARY) and annotations. Outside GitHub it runs with the same variables (the
 * test does); without GITHUB_OUTPUT the outputs are printed.
 *
 * entrasync is this checkout's own build (dist/cli/main.js, made by scripts/action-install.sh):
 * exactly the version of the commit the workflow pinned, nothing fetched from a registry.
 *
 * Exit status: 0 when entrasync answered 0, 2 (changes) or 3 (changes held by safety checks):
 * the outputs `result` and `held` tell which, and the workflow decides what held changes mean.
 * 1 on an error, after the outputs are written.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const COMMANDS = ['plan', 'apply', 'snapshot'];
/** The first line of every markdown plan: the comment step finds its earlier comment by it. */
const MARKER = '<!-- entrasync-plan -->';

/** @typedef {{ command: string, config: string, baseline: string, planFile: string,
 *   markdown: string, tenantSnapshot: string, history: string, autoApprove: boolean,
 *   version: string }} Inputs */

/** @param {NodeJS.ProcessEnv} env @returns {Inputs} */
function readInputs(env) {
  const input = (name) => (env[`INPUT_${name}`] ?? '').trim();
  return {
    command: input('COMMAND'),
    config: input('CONFIG') || 'entrasync.yaml',
    baseline: input('BASELINE'),
    planFile: input('PLAN_FILE'),
    markdown: input('MARKDOWN'),
    tenantSnapshot: input('TENANT_SNAPSHOT'),
    history: input('HISTORY'),
    autoApprove: input('AUTO_APPROVE') === 'true',
    version: input('VERSION').replace(/^v/, ''),
  };
}

/**
 * The entrasync arguments for these inputs, or the reason they make no sense. A plan is always
 * made as markdown (its stdout): the comment, the job summary and a readable log.
 * @param {Inputs} inputs @returns {{ args: string[] } | { refused: string }}
 */
function argumentsFor(inputs) {
  const common = ['-c', inputs.config];
  const baseline = inputs.baseline ? ['--baseline', inputs.baseline] : [];
  switch (inputs.command) {
    case 'plan':
      return {
        args: [
          'plan',
          ...common,
          ...baseline,
          ...(inputs.planFile ? ['--out', inputs.planFile] : []),
          ...(inputs.tenantSnapshot ? ['--tenant-snapshot', inputs.tenantSnapshot] : []),
          '--format',
          'markdown',
        ],
      };
    case 'apply': {
      const history = inputs.history ? ['--history', inputs.history] : [];
      if (inputs.planFile) {
        return { args: ['apply', inputs.planFile, ...common, ...baseline, ...history] };
      }
      // Planning and applying in one go applies what nobody reviewed: only when asked for.
      if (!inputs.autoApprove) {
        return {
          refused:
            'apply needs `plan-file` (the plan reviewed on the pull request), or `auto-approve: true` to plan and apply now without a review',
        };
      }
      return { args: ['apply', ...common, ...baseline, ...history, '--auto-approve'] };
    }
    case 'snapshot':
      if (!inputs.tenantSnapshot)
        return { refused: 'snapshot needs `tenant-snapshot` (the file to write)' };
      return { args: ['snapshot', ...common, '--out', inputs.tenantSnapshot] };
    default:
      return { refused: `command must be one of ${COMMANDS.join(', ')}, not "${inputs.command}"` };
  }
}

/**
 * What an exit code means for this command, as the `result` output.
 * @param {string} command @param {number} code
 */
function resultOf(command, code) {
  if (code === 3) return 'held';
  if (code === 2 && command === 'plan') return 'changes';
  if (code !== 0) return 'error';
  return { plan: 'no-changes', apply: 'applied', snapshot: 'saved' }[command];
}

/**
 * Runs entrasync with stdin closed (it is no terminal in CI), its stdout both shown and kept,
 * its stderr (logs) shown.
 * @param {string[]} args @returns {Promise<{ code: number, stdout: string }>}
 */
function runEntrasync(args) {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      stdout += text;
      process.stdout.write(text);
    });
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code: code ?? (signal ? 1 : 0), stdout }));
  });
}

/** @param {string} name @param {string} value */
function setOutput(name, value) {
  const file = process.env.GITHUB_OUTPUT;
  if (file) appendFileSync(file, `${name}=${value}\n`);
  else process.stdout.write(`output ${name}=${value}\n`);
}

/**
 * The saved plan as one self-contained HTML page beside it (`entrasync show -f html`), so the
 * artifact that carries plan.json carries a plan a reviewer can open and filter. '' when there is
 * no saved plan or it could not be rendered.
 * @param {string} planFile @returns {string}
 */
function writeHtml(planFile) {
  if (!planFile || !existsSync(planFile)) return '';
  const html = join(dirname(planFile), 'plan.html');
  const shown = spawnSync(process.execPath, [CLI, 'show', planFile, '--format', 'html'], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (shown.status !== 0) {
    annotate('warning', `could not render ${planFile} as HTML: ${shown.stderr.trim()}`);
    return '';
  }
  writeFileSync(html, shown.stdout);
  return html;
}

/** @param {string} markdown */
function addToSummary(markdown) {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (file) appendFileSync(file, `${markdown}\n`);
}

/** @param {'error' | 'warning' | 'notice'} level @param {string} message */
function annotate(level, message) {
  process.stdout.write(`::${level} title=entrasync::${message.replace(/\r?\n/g, ' ')}\n`);
}

/** The saved plan's fingerprint, or '' when there is no readable plan file. @param {string} file */
function fingerprintOf(file) {
  if (!file || !existsSync(file)) return '';
  try {
    const plan = JSON.parse(readFileSync(file, 'utf8'));
    return typeof plan.fingerprint === 'string' ? plan.fingerprint : '';
  } catch {
    return '';
  }
}

function runUrl() {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = process.env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : '';
}

/**
 * Writes a plan's markdown (or, when the plan failed before writing any, a short note that
 * points at the run's log) to `file` and the job summary.
 * @param {string} file @param {string} stdout @param {number} code
 */
function writeMarkdown(file, stdout, code) {
  const url = runUrl();
  const markdown =
    stdout.trim() !== ''
      ? stdout
      : `${MARKER}\n\n### entrasync plan failed\n\n:x: entrasync exited ${code}; the cause is in the ${url ? `[job log](${url})` : 'job log'}.\n`;
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, markdown);
  addToSummary(markdown);
}

/** @param {string} command @param {string} stdout */
function summarise(command, stdout) {
  if (stdout.trim() === '') return;
  addToSummary(`### entrasync ${command}\n\n\`\`\`\`text\n${stdout.trimEnd()}\n\`\`\`\`\n`);
}

/** @param {Inputs} inputs @param {string} result @param {number} code */
function explain(inputs, result, code) {
  if (result === 'held') {
    annotate(
      'warning',
      inputs.command === 'plan'
        ? 'safety checks hold changes in this plan (exit 3); see the plan'
        : 'safety checks held changes (exit 3); the rest was applied',
    );
  } else if (result === 'error') {
    annotate('error', `entrasync ${inputs.command} failed (exit ${code}); see the log above`);
  }
}

async function main() {
  const inputs = readInputs(process.env);
  const ownVersion = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  setOutput('version', ownVersion);
  const fail = (message) => {
    annotate('error', message);
    setOutput('exit-code', '1');
    setOutput('result', 'error');
    return 1;
  };
  if (inputs.version && inputs.version !== ownVersion) {
    return fail(
      `this action is entrasync ${ownVersion} and installs nothing else; for ${inputs.version}, pin the action to the commit of that release (uses: <owner>/entrasync@<commit sha>)`,
    );
  }
  const plan = argumentsFor(inputs);
  if ('refused' in plan) return fail(plan.refused);
  if (!existsSync(CLI))
    return fail(`${CLI} is missing: the install step (scripts/action-install.sh) did not run`);
  if (inputs.command === 'plan' && inputs.planFile) {
    mkdirSync(dirname(resolve(inputs.planFile)), { recursive: true });
  }
  if (inputs.command === 'snapshot')
    mkdirSync(dirname(resolve(inputs.tenantSnapshot)), { recursive: true });
  if (inputs.command === 'apply' && inputs.history)
    mkdirSync(dirname(resolve(inputs.history)), { recursive: true });

  const { code, stdout } = await runEntrasync(plan.args);
  const result = resultOf(inputs.command, code);
  if (inputs.command === 'plan') {
    const markdown =
      inputs.markdown || join(process.env.RUNNER_TEMP || tmpdir(), 'entrasync-plan.md');
    writeMarkdown(markdown, stdout, code);
    setOutput('markdown', markdown);
    setOutput('html', writeHtml(inputs.planFile));
  } else {
    summarise(inputs.command, stdout);
  }
  setOutput('exit-code', String(code));
  setOutput('result', result);
  setOutput('held', String(result === 'held'));
  setOutput('changes', String(inputs.command === 'plan' && (code === 2 || code === 3)));
  setOutput('fingerprint', fingerprintOf(inputs.planFile));
  setOutput(
    'history',
    inputs.command === 'apply' && inputs.history && existsSync(inputs.history)
      ? inputs.history
      : '',
  );
  explain(inputs, result, code);
  return result === 'error' ? 1 : 0;
}

process.exitCode = await main();
