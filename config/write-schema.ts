/**
 * Generates `entrasync.schema.json`, the published JSON Schema editors validate config files
 * with (`# yaml-language-server: $schema=./entrasync.schema.json`), from `schema.ts`.
 * `config/write-schema.test.ts` fails when the committed file is not the generated text.
 *
 * Run after a build: `node dist/config/write-schema.js` (npm run schema).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Config } from './schema.js';

export const SCHEMA_FILE_NAME = 'entrasync.schema.json';
/** Identifier, not a download location. */
export const SCHEMA_ID = 'urn:entrasync:config:v1';

/** The JSON Schema (draft-07, which ajv and editors read) as the committed file holds it. */
export function renderJsonSchema(): string {
  // JSON.stringify drops TypeBox's symbol keys (Kind, ConfigSlot): only JSON Schema remains.
  const { title, ...rest } = JSON.parse(JSON.stringify(Config)) as Record<string, unknown>;
  const document = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: SCHEMA_ID,
    title,
    ...rest,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** The package root: the nearest directory above this module with a package.json. */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
}

export function writeJsonSchema(path: string = join(packageRoot(), SCHEMA_FILE_NAME)): string {
  writeFileSync(path, renderJsonSchema());
  return path;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const written = writeJsonSchema();
  process.stdout.write(`wrote ${written}\n`);
}
