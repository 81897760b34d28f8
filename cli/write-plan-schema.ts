/**
 * Writes `plan.schema.json`, the published JSON Schema of the plan JSON, from
 * engine/render/plan-schema.ts; with `--docs <README.md>`, rewrites the plan reference between
 * its markers in that file instead. cli/write-plan-schema.test.ts fails when either committed
 * text is not the generated one.
 *
 * Run after a build: `node dist/cli/write-plan-schema.js` (npm run schema) and
 * `node dist/cli/write-plan-schema.js --docs README.md` (npm run docs).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../config/write-schema.js';
import { replacePlanReference } from '../engine/render/plan-reference.js';
import { PLAN_SCHEMA_FILE_NAME, renderPlanJsonSchema } from '../engine/render/plan-schema.js';

export function writePlanSchema(path: string = join(packageRoot(), PLAN_SCHEMA_FILE_NAME)): string {
  writeFileSync(path, renderPlanJsonSchema());
  return path;
}

export function writePlanReference(markdownFile: string): string {
  writeFileSync(markdownFile, replacePlanReference(readFileSync(markdownFile, 'utf8')));
  return markdownFile;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [flag, file] = process.argv.slice(2);
  const written = flag === '--docs' && file ? writePlanReference(file) : writePlanSchema();
  process.stdout.write(`wrote ${written}\n`);
}
