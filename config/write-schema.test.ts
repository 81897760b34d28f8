import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { packageRoot, renderJsonSchema, SCHEMA_FILE_NAME, SCHEMA_ID } from './write-schema.js';

const committed = join(packageRoot(), SCHEMA_FILE_NAME);

describe('entrasync.schema.json', () => {
  it('is current: the committed file is the generated text (run `npm run schema` after a build)', () => {
    expect(readFileSync(committed, 'utf8')).toBe(renderJsonSchema());
  });

  it('is a draft-07 document with an id and a title, and no TypeBox internals', () => {
    const schema = JSON.parse(renderJsonSchema()) as Record<string, unknown>;
    expect(schema['$schema']).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema['$id']).toBe(SCHEMA_ID);
    expect(schema['title']).toBe('entrasync configuration');
    expect(renderJsonSchema()).not.toMatch(/Symbol|\[Kind\]/);
  });

  it('validates config files the way an editor would (plain ajv, no entrasync code)', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(renderJsonSchema()) as object);
    const good = parse(
      [
        'version: 1',
        'target:',
        '  auth: { method: secret, clientSecret: "${env:ENTRA_CLIENT_SECRET}" }',
        '  tenantId: ${env:ENTRA_TENANT_ID}',
        '  clientId: 00000000-0000-0000-0000-000000000000',
        'sources:',
        '  hr: { kind: csv, path: hr.csv, key: employee_id }',
        'users:',
        '  anchor: employee_id',
        '  attributes: { userPrincipalName: upn, displayName: name }',
      ].join('\n'),
    ) as unknown;
    expect(validate(good), JSON.stringify(validate.errors)).toBe(true);
    const bad = { ...(good as Record<string, unknown>), version: 2, extra: true };
    expect(validate(bad)).toBe(false);
  });
});
