#!/usr/bin/env node
// The README's main job: plan and apply examples/quickstart against the embedded simulated
// tenant, then plan again and expect no changes. It runs the installed CLI exactly as a user
// would, and fails if any step's exit code is not the documented one.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const example = join(root, 'examples', 'quickstart');
const config = relative(process.cwd(), join(example, 'entrasync.yaml'));
const planFile = relative(process.cwd(), join(example, '.entrasync', 'plan.json'));

// Start from the seeded tenant every time, so the demo shows the same plan on every run.
rmSync(join(example, '.entrasync'), { recursive: true, force: true });

const steps = [
  { title: 'Plan', args: ['plan', '--config', config, '--out', planFile], expect: 2 },
  { title: 'Apply the saved plan', args: ['apply', planFile, '--config', config], expect: 0 },
  {
    title: 'Plan again: the tenant now matches the config',
    args: ['plan', '--config', config],
    expect: 0,
  },
];

const started = Date.now();
for (const step of steps) {
  process.stdout.write(`\n=== ${step.title}: entrasync ${step.args.join(' ')}\n\n`);
  const result = spawnSync(process.execPath, [cli, ...step.args], { stdio: 'inherit' });
  if (result.status !== step.expect) {
    process.stderr.write(
      `\nquickstart: "${step.title}" exited ${result.status}, expected ${step.expect}\n`,
    );
    process.exit(1);
  }
}
process.stdout.write(`\nquickstart: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
