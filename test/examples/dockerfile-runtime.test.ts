/**
 * The Dockerfile's runtime stage, assembled and run without a Docker engine (none runs on this
 * machine): the files the runtime stage COPYs, made the way its stages make them, laid out at
 * the image's paths under a temporary root, then the quickstart planned and applied from the
 * state volume as the image's user (uid 10001), with everything outside the volume read-only.
 *
 * What this proves of the image: production dependencies alone run every command the quickstart
 * uses (a dev dependency imported at run time would crash the container), entrasync writes only
 * its working directory (the Kubernetes example's read-only root filesystem), and a non-root
 * user with no home directory of its own runs it. What it does not prove: the base image's own
 * Node (this machine's Node runs it) and the apt/compile steps of the toolchain stage; the one
 * native module, better-sqlite3, is copied from this checkout's build instead of
 * `npm rebuild better-sqlite3` (a compile of minutes), same Node ABI.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDockerfile } from './dockerfile-parse.js';
import { IMAGE_UID } from './kubernetes-helpers.js';

const repo = join(import.meta.dirname, '..', '..');
const { stages } = parseDockerfile(readFileSync(join(repo, 'Dockerfile'), 'utf8'));
const runtime = stages.at(-1)!;
const root = mkdtempSync(join(tmpdir(), 'entrasync-image-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
/** The image's /app and its state volume (the runtime stage's last WORKDIR). */
const app = join(root, 'app');
const volume = join(root, 'var', 'lib', 'entrasync');
const prodDeps = join(root, 'stage-prod-deps');

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
}

/** The prod-deps stage: `npm ci --omit=dev --ignore-scripts` of the lockfile (from npm's cache). */
function buildProdDeps(): void {
  mkdirSync(prodDeps);
  cpSync(join(repo, 'package.json'), join(prodDeps, 'package.json'));
  cpSync(join(repo, 'package-lock.json'), join(prodDeps, 'package-lock.json'));
  const install = run(
    'npm',
    ['ci', '--omit=dev', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'],
    prodDeps,
  );
  expect(install.status, install.stderr).toBe(0);
  // Stands in for `npm rebuild better-sqlite3` (see the file comment).
  cpSync(
    join(repo, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'),
    join(prodDeps, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'),
  );
}

/** Every COPY of the runtime stage, from the stage or the build context it names. */
function copyRuntimeFiles(): void {
  const stagePaths: Record<string, string> = { 'prod-deps': prodDeps, build: repo };
  for (const instruction of runtime.instructions.filter((i) => i.keyword === 'COPY')) {
    const parts = instruction.args.split(' ');
    const from = /^--from=(\S+)$/.exec(parts[0]!)?.[1];
    const sources = from ? parts.slice(1, -1) : parts.slice(0, -1);
    const dest = parts.at(-1)!;
    for (const src of sources) {
      // Stage paths are under /src in the Dockerfile; the build stage's /src/dist is this
      // checkout's `npm run build`.
      const local = from ? join(stagePaths[from]!, src.replace(/^\/src\//, '')) : join(repo, src);
      expect(existsSync(local), `${instruction.args}: ${local}`).toBe(true);
      const target = dest.endsWith('/') ? join(app, dest, src.split('/').at(-1)!) : join(app, dest);
      cpSync(local, target, { recursive: true });
    }
  }
}

/** Read-only for everyone: the image's root filesystem as the Kubernetes example mounts it. */
function readOnly(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) readOnly(path);
    else if (!entry.isSymbolicLink()) chmodSync(path, statSync(path).mode & 0o555);
  }
  chmodSync(dir, 0o555);
}

/** `docker run` of the image: its entrypoint as its user, in its working directory. */
function entrasync(...args: string[]) {
  const entrypoint = runtime.instructions.find((i) => i.keyword === 'ENTRYPOINT')!;
  const [node, main] = JSON.parse(entrypoint.args) as [string, string];
  expect(node).toBe('node');
  return run(
    'setpriv',
    [
      `--reuid=${IMAGE_UID}`,
      `--regid=${IMAGE_UID}`,
      '--clear-groups',
      process.execPath,
      join(root, main),
      ...args,
    ],
    volume,
    { PATH: process.env['PATH'], HOME: volume, NODE_ENV: 'production' },
  );
}

beforeAll(() => {
  expect(existsSync(join(repo, 'dist', 'cli', 'main.js')), 'run `npm run build` first').toBe(true);
  chmodSync(root, 0o755);
  buildProdDeps();
  copyRuntimeFiles();
  mkdirSync(volume, { recursive: true });
  for (const file of ['entrasync.yaml', 'employees.csv', 'tenant.json']) {
    cpSync(join(repo, 'examples', 'quickstart', file), join(volume, file));
  }
  run('chown', ['-R', `${IMAGE_UID}:${IMAGE_UID}`, volume], root);
  readOnly(app);
  chmodSync(join(root, 'var'), 0o555);
}, 300_000);

describe('the image runtime stage, assembled without Docker', () => {
  it('holds production dependencies only', () => {
    const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, p]) => p.dev && path.startsWith('node_modules/'))
      .map(([path]) => path);
    expect(devOnly.length).toBeGreaterThan(0);
    for (const path of devOnly) expect(existsSync(join(app, path)), path).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'typescript'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'vitest'))).toBe(false);
  });

  it('R2: plans, applies and re-plans the quickstart as uid 10001 on a read-only root', () => {
    const help = entrasync('--version');
    expect(help.status, help.stderr).toBe(0);
    const plan = entrasync('plan', '-c', 'entrasync.yaml', '--out', 'plan.json');
    expect(plan.stderr).not.toMatch(/Cannot find (module|package)|ERR_MODULE_NOT_FOUND/);
    expect(plan.status, plan.stderr).toBe(2);
    const apply = entrasync('apply', 'plan.json', '-c', 'entrasync.yaml');
    expect(apply.status, apply.stderr + apply.stdout).toBe(0);
    expect(apply.stdout).toMatch(/ 0 failed, 0 skipped, 0 not run\./);
    const again = entrasync('plan', '-c', 'entrasync.yaml');
    expect(again.status, again.stderr).toBe(0);
    // Everything it wrote is on the volume, owned by the image's user.
    for (const name of ['tenant.db', 'apply.db', 'history.db']) {
      const file = join(volume, '.entrasync', name);
      expect(existsSync(file), name).toBe(true);
      expect(statSync(file).uid).toBe(IMAGE_UID);
    }
  });
});
