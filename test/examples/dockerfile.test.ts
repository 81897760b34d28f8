/**
 * The Dockerfile, read as instructions (no Docker daemon here: no image is built in tests): a
 * multi-stage build on one Node LTS slim base, the native module compiled in a stage with a
 * toolchain, a runtime stage with production dependencies only, a numeric non-root user that
 * the Kubernetes example's pods run as, entrasync as the entrypoint, and no secret baked in.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Stage } from './dockerfile-parse.js';
import { parseDockerfile } from './dockerfile-parse.js';
import { configArg, IMAGE_UID, named, readFolders } from './kubernetes-helpers.js';

const root = join(import.meta.dirname, '..', '..');

const { args, stages } = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const runtime = stages.at(-1)!;
const stage = (name: string) => stages.find((s) => s.name === name)!;
const of = (s: Stage, keyword: string) =>
  s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
/** The stage and every stage it is built FROM, nearest first. */
function lineage(s: Stage): Stage[] {
  const parent = stages.find((p) => p.name === s.from);
  return parent ? [s, ...lineage(parent)] : [s];
}
/** `COPY --from=<stage> <src> <dest>` of the runtime stage, by source path. */
function copiedFrom(src: string): Stage {
  const copy = of(runtime, 'COPY').find((a) => a.split(' ')[1] === src);
  expect(copy, `runtime copies no ${src}`).toBeDefined();
  const from = /^--from=(\S+) /.exec(copy!)?.[1];
  expect(from, `${src} is not copied from a stage`).toBeDefined();
  return stage(from!);
}

describe('Dockerfile', () => {
  it('has several stages on one Node LTS slim base whose Node the package supports', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    const base = args.find((a) => a.args.startsWith('NODE_IMAGE='))?.args.split('=')[1];
    const m = /^node:(\d+)-[a-z]+-slim$/.exec(base ?? '');
    expect(m, `base image ${base}`).not.toBeNull();
    const major = Number(m![1]);
    expect(major % 2, 'even Node majors are the LTS lines').toBe(0);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    expect(major).toBeGreaterThanOrEqual(Number(/>=(\d+)/.exec(pkg.engines.node)![1]));
    for (const s of stages) {
      expect(lineage(s).at(-1)!.from).toBe('${NODE_IMAGE}');
    }
  });

  it('builds with dev dependencies and runs with production dependencies only', () => {
    const build = copiedFrom('/src/dist');
    expect(of(build, 'RUN').join('\n')).toMatch(/npm ci(?! [^\n]*--omit)/);
    expect(of(build, 'RUN')).toContain('npm run build');

    const deps = copiedFrom('/src/node_modules');
    const install = of(deps, 'RUN').join('\n');
    expect(install).toMatch(/npm ci --omit=dev/);
    // better-sqlite3 is native: compiled where python3, make and g++ are installed.
    expect(install).toMatch(/npm rebuild better-sqlite3/);
    const toolchain = lineage(deps)
      .flatMap((s) => of(s, 'RUN'))
      .join('\n');
    for (const tool of ['python3', 'make', 'g++']) expect(toolchain).toContain(tool);

    // The runtime stage starts from the bare base: no compiler, no sources, no dev dependencies.
    expect(runtime.from).toBe('${NODE_IMAGE}');
    expect(of(runtime, 'RUN').join('\n')).not.toMatch(/apt-get install|npm (ci|install)/);
    const copied = of(runtime, 'COPY').map((a) => a.split(' ').slice(-2)[0]);
    expect(copied).toEqual(['/src/node_modules', '/src/dist', 'entrasync.schema.json']);
    expect(of(runtime, 'COPY').at(-1)).toBe('package.json entrasync.schema.json ./');
  });

  it('runs entrasync as a numeric non-root user, the uid the Kubernetes pods run as', () => {
    const users = of(runtime, 'USER');
    expect(users).toEqual([`${IMAGE_UID}:${IMAGE_UID}`]);
    expect(IMAGE_UID).toBeGreaterThan(0);
    expect(of(runtime, 'ENTRYPOINT')).toEqual(['["node", "/app/dist/cli/main.js"]']);
    // /app/dist/cli/main.js is what `npm run build` makes of cli/main.ts, and the package's bin.
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin['entrasync']).toBe('dist/cli/main.js');
    expect(existsSync(join(root, 'cli', 'main.ts'))).toBe(true);
    const buildConfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { outDir: string; rootDir: string };
    };
    expect(buildConfig.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
  });

  it('keeps state on a volume, where the Kubernetes example mounts its state and config', () => {
    const volumes = of(runtime, 'VOLUME');
    expect(volumes).toEqual(['["/var/lib/entrasync"]']);
    expect(of(runtime, 'WORKDIR').at(-1)).toBe('/var/lib/entrasync');
    const k8s = readFolders('common', 'cronjob', 'daemon');
    const cronJob = named(k8s, 'CronJob', 'entrasync-apply');
    const container = cronJob['spec']['jobTemplate']['spec']['template']['spec']['containers'][0];
    expect(dirname(configArg(container['args'] as string[]))).toBe('/var/lib/entrasync');
  });

  it('bakes in no secret and sends only what it copies as build context', () => {
    const settings = [...args, ...stages.flatMap((s) => s.instructions)].filter((i) =>
      ['ENV', 'ARG'].includes(i.keyword),
    );
    for (const setting of settings) {
      expect(setting.args).not.toMatch(/token|secret|password|passwd|credential|api_?key/i);
    }
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignore[0]).toBe('**'); // everything is left out unless named below
    const contextSources = stages
      .flatMap((s) => of(s, 'COPY'))
      .filter((a) => !a.startsWith('--from='))
      .flatMap((a) => a.split(' ').slice(0, -1));
    for (const src of contextSources) {
      expect(ignore, `${src} is left out of the build context`).toContain(`!${src}`);
      expect(existsSync(join(root, src)), `${src} does not exist`).toBe(true);
    }
    expect(ignore).toContain('**/.entrasync/');
  });
});
