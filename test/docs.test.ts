/** Generated documentation stays current: the README's config reference and the CLI commands. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replaceConfigReference } from '../config/write-docs.js';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('README', () => {
  it('has the config reference generated from the current schema (run `npm run docs`)', () => {
    expect(replaceConfigReference(readme)).toBe(readme);
  });

  it('names the two set-up commands, and .ci/run runs exactly the test command', () => {
    expect(readme).toContain('`npm ci && npm run quickstart`');
    expect(readme).toContain('`npm ci && npm run test:all`');
    expect(readFileSync(join(root, '.ci', 'run'), 'utf8')).toContain(
      '\nnpm ci && npm run test:all\n',
    );
  });
});
