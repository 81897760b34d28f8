/**
 * scripts/generate-user-properties.mjs and the table it made. Graph's metadata is not committed
 * here, so the test writes the user entity back as CSDL from what the table records of it (every
 * property's name, the writable ones' types, the complex types' subfields) and runs the
 * generator on that: it must give the committed table byte for byte. A property the generator
 * has not classified, as a new Graph property would be, stops it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { afterAll, describe, expect, it } from 'vitest';
import {
  METADATA_USER_PROPERTIES,
  WRITABLE_USER_PROPERTIES,
} from '../engine/model/graph-user-properties.js';

const root = join(import.meta.dirname, '..');
const script = join(root, 'scripts', 'generate-user-properties.mjs');
const table = join(root, 'engine', 'model', 'graph-user-properties.ts');
const dir = mkdtempSync(join(tmpdir(), 'entrasync-user-properties-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EDM = {
  String: 'Edm.String',
  Boolean: 'Edm.Boolean',
  Int32: 'Edm.Int32',
  DateTimeOffset: 'Edm.DateTimeOffset',
};

/** The user entity and its complex types as CSDL, from the table (plus one extra property). */
function csdl(extra: string[] = []): string {
  const complex = new Map<string, string[]>();
  for (const path of Object.keys(WRITABLE_USER_PROPERTIES)) {
    const [parent, sub] = path.split('.');
    if (parent && sub) complex.set(parent, [...(complex.get(parent) ?? []), sub]);
  }
  const property = (name: string): string => {
    const spec = WRITABLE_USER_PROPERTIES[name];
    const type = complex.has(name)
      ? `graph.${name}`
      : spec
        ? spec.collection
          ? `Collection(${EDM[spec.type]})`
          : EDM[spec.type]
        : 'Edm.String';
    return `        <Property Name="${name}" Type="${type}" />`;
  };
  const user = [...METADATA_USER_PROPERTIES, ...extra].map(property).join('\n');
  const types = [...complex]
    .map(
      ([name, subs]) =>
        `      <ComplexType Name="${name}">\n${subs.map((s) => `        <Property Name="${s}" Type="Edm.String" />`).join('\n')}\n      </ComplexType>`,
    )
    .join('\n');
  return `<Schema>\n      <EntityType Name="user" BaseType="graph.directoryObject" OpenType="true">\n${user}\n      </EntityType>\n${types}\n</Schema>\n`;
}

function generate(metadata: string): { out: string; status: number; stderr: string } {
  const input = join(dir, 'metadata.xml');
  const out = join(dir, 'out.ts');
  writeFileSync(input, metadata);
  try {
    execFileSync(process.execPath, [script, input, out], { stdio: 'pipe' });
    return { out: readFileSync(out, 'utf8'), status: 0, stderr: '' };
  } catch (err) {
    const e = err as { status: number; stderr: Buffer };
    return { out: '', status: e.status, stderr: e.stderr.toString() };
  }
}

describe('scripts/generate-user-properties.mjs', () => {
  it('U-ATTR6 regenerates the committed table from the metadata it records', async () => {
    const run = generate(csdl());
    expect(run.status).toBe(0);
    const options = await resolveConfig(table);
    const formatted = await format(run.out, { ...options, filepath: table });
    expect(formatted).toBe(readFileSync(table, 'utf8'));
  });

  it('U-ATTR7 a property in no list (a new Graph property) stops it, naming the property', () => {
    const run = generate(csdl(['newProperty']));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('user properties in no list');
    expect(run.stderr).toContain('newProperty');
  });
});
