/**
 * The Markdown config reference, generated from the schema's descriptions, types, defaults and
 * allowed values, so the docs cannot drift from what the loader accepts. The README holds it
 * between `<!-- config-reference:start -->` and `<!-- config-reference:end -->`;
 * `replaceConfigReference` rewrites that span.
 *
 * Runnable after a build: `node dist/config/write-docs.js README.md` rewrites the span in place.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { listSchemaEntries, type SchemaEntry } from './schema-entries.js';

export const CONFIG_REFERENCE_START = '<!-- config-reference:start -->';
export const CONFIG_REFERENCE_END = '<!-- config-reference:end -->';

export interface ConfigReferenceOptions {
  /** Level of the heading for each top-level key (default 3: `###`). */
  readonly headingLevel?: number;
}

export function renderConfigReference(options: ConfigReferenceOptions = {}): string {
  const hashes = '#'.repeat(options.headingLevel ?? 3);
  const groups = new Map<string, SchemaEntry[]>();
  for (const entry of listSchemaEntries()) {
    const top = entry.path.split('.')[0] ?? entry.path;
    groups.set(top, [...(groups.get(top) ?? []), entry]);
  }
  const out: string[] = [
    '<!-- Generated from config/schema.ts by renderConfigReference(): edit the schema, not this text. -->',
    '',
    'Expressions are [JSONata](https://jsonata.org); secret references are `${env:NAME}` or `${file:path}` and must be the whole value. Relative paths resolve against the config file.',
  ];
  for (const [top, entries] of groups) {
    out.push('', `${hashes} \`${top}\``, '');
    out.push('| Key | Type | Required | Default | Description |', '|---|---|---|---|---|');
    for (const e of entries) {
      const key = `\`${e.path}\`${e.condition ? `<br>when \`${e.condition}\`` : ''}`;
      const type =
        e.allowed && e.allowed.length > 1
          ? `${e.type}: one of ${e.allowed.map((v) => `\`${String(v)}\``).join(', ')}`
          : e.allowed?.length === 1
            ? `\`${String(e.allowed[0])}\``
            : e.type;
      const required = e.required ? 'yes' : 'no';
      out.push(
        `| ${[key, type, required, renderDefault(e.default), e.description].map(cell).join(' | ')} |`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

/** Replaces the text between the reference markers; throws if the markers are missing. */
export function replaceConfigReference(
  markdown: string,
  reference: string = renderConfigReference(),
): string {
  const start = markdown.indexOf(CONFIG_REFERENCE_START);
  const end = markdown.indexOf(CONFIG_REFERENCE_END);
  if (start < 0 || end < 0 || end < start) {
    throw new Error(
      `expected ${CONFIG_REFERENCE_START} followed by ${CONFIG_REFERENCE_END} in the Markdown`,
    );
  }
  const before = markdown.slice(0, start + CONFIG_REFERENCE_START.length);
  const after = markdown.slice(end);
  return `${before}\n\n${reference.trimEnd()}\n\n${after}`;
}

function renderDefault(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return `\`[${value.map(String).join(', ')}]\``;
  // An object's default is its children's defaults, listed on their own rows.
  if (typeof value === 'object' && value !== null) return '';
  return `\`${String(value)}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const file = process.argv[2];
  if (!file) {
    process.stdout.write(renderConfigReference());
  } else {
    writeFileSync(file, replaceConfigReference(readFileSync(file, 'utf8')));
    process.stdout.write(`updated the config reference in ${file}\n`);
  }
}
