/**
 * Colour in plan, apply and validate text: only on a terminal, never with NO_COLOR or
 * --no-color, and the text is the same text once the escape codes are taken out.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { colors, colourWanted, NO_COLORS, paintPlanText, paintReportText } from './colour.js';
import { main } from './program.js';

// eslint-disable-next-line no-control-regex
const ESCAPE = /\u001b\[/;
// eslint-disable-next-line no-control-regex
const strip = (text: string) => text.replace(/\u001b\[\d+(;\d+)*m/g, '');

const example = join(import.meta.dirname, '..', 'examples', 'quickstart');
const temps: string[] = [];
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

let config: string;
const savedNoColor = process.env['NO_COLOR'];
beforeEach(() => {
  const work = mkdtempSync(join(tmpdir(), 'entrasync-colour-'));
  temps.push(work);
  cpSync(example, work, { recursive: true, filter: (p) => !p.includes('.entrasync') });
  config = join(work, 'entrasync.yaml');
  delete process.env['NO_COLOR'];
});
afterEach(() => {
  if (savedNoColor === undefined) delete process.env['NO_COLOR'];
  else process.env['NO_COLOR'] = savedNoColor;
});

/** The CLI in-process, its stdout a terminal or not. */
async function run(isTTY: boolean, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (t: string) => (stdout += t), isTTY },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

describe('colourWanted', () => {
  it('only on a terminal, without NO_COLOR (unless empty) and without --no-color', () => {
    expect(colourWanted({ env: {}, isTTY: true })).toBe(true);
    expect(colourWanted({ env: {}, isTTY: false })).toBe(false);
    expect(colourWanted({ env: {}, isTTY: undefined })).toBe(false);
    expect(colourWanted({ env: { NO_COLOR: '1' }, isTTY: true })).toBe(false);
    expect(colourWanted({ env: { NO_COLOR: '' }, isTTY: true })).toBe(true);
    expect(colourWanted({ flag: false, env: {}, isTTY: true })).toBe(false);
    expect(colourWanted({ flag: true, env: {}, isTTY: true })).toBe(true);
  });

  it('painting changes no character of the text, and without colours adds nothing', () => {
    const plan = 'Changes (2)\n  + create  a@x\n  - disable b@x\n\nPlan abc: 1 to create.\n';
    expect(paintPlanText(plan, NO_COLORS)).toBe(plan);
    const painted = paintPlanText(plan, colors(true));
    expect(painted).toMatch(ESCAPE);
    expect(strip(painted)).toBe(plan);
    const report = '  applied  create  a@x\n  failed   disable b@x - 403 X: no\n';
    expect(paintReportText(report, NO_COLORS)).toBe(report);
    expect(strip(paintReportText(report, colors(true)))).toBe(report);
  });
});

describe('plan, apply and validate text', () => {
  it('are coloured on a terminal, and the same text without its escape codes', async () => {
    const plain = await run(false, 'plan', '-c', config);
    const coloured = await run(true, 'plan', '-c', config);
    expect(coloured.code).toBe(2);
    expect(coloured.stdout).toMatch(ESCAPE);
    expect(strip(coloured.stdout)).toBe(plain.stdout);
    expect((await run(true, 'validate', '-c', config)).stdout).toMatch(ESCAPE);
    const applied = await run(true, 'apply', '-c', config, '--auto-approve', '--no-progress');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/\u001b\[32m {2}applied /); // eslint-disable-line no-control-regex
  });

  it('have no escape codes when stdout is not a terminal', async () => {
    const plan = await run(false, 'plan', '-c', config);
    expect(plan.stdout).toContain('Will apply (10)');
    expect(plan.stdout + plan.stderr).not.toMatch(ESCAPE);
    const apply = await run(false, 'apply', '-c', config, '--auto-approve');
    expect(apply.stdout).toContain('10 applied');
    expect(apply.stdout + apply.stderr).not.toMatch(ESCAPE);
  });

  it('have no escape codes with NO_COLOR, or with --no-color, even on a terminal', async () => {
    process.env['NO_COLOR'] = '1';
    for (const args of [
      ['plan', '-c', config],
      ['validate', '-c', config],
    ]) {
      const r = await run(true, ...args);
      expect(r.stdout.length).toBeGreaterThan(0);
      expect(r.stdout + r.stderr).not.toMatch(ESCAPE);
    }
    delete process.env['NO_COLOR'];
    for (const args of [
      ['plan', '--no-color', '-c', config],
      ['validate', '--no-color', '-c', config],
      ['apply', '--no-color', '--auto-approve', '-c', config],
    ]) {
      const r = await run(true, ...args);
      expect(r.stdout.length).toBeGreaterThan(0);
      expect(r.stdout + r.stderr).not.toMatch(ESCAPE);
    }
  });

  it('validate errors are red on a terminal, plain with NO_COLOR', async () => {
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(config, readFileSync(config, 'utf8').replace('anchor:', 'anchr:'));
    const coloured = await run(true, 'validate', '-c', config);
    expect(coloured.code).toBe(1);
    expect(coloured.stderr).toMatch(ESCAPE);
    process.env['NO_COLOR'] = '1';
    const plain = await run(true, 'validate', '-c', config);
    expect(plain.code).toBe(1);
    expect(plain.stderr).not.toMatch(ESCAPE);
    expect(strip(coloured.stderr)).toBe(plain.stderr);
    expect(plain.stderr).toMatch(/did you mean `anchor`[^\n]*\n\d+ error\(s\) in configuration\n$/);
  });
});
