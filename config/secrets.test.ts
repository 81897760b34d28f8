import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../engine/errors.js';
import { REDACTED, Redactor, Secret } from '../engine/secret.js';
import { loadConfig } from './load.js';
import {
  createSecretRef,
  parseSecretReference,
  resolveConfigValue,
  resolveSecret,
  resolveSecrets,
  revealConfigValue,
  type SecretContext,
  type SecretRef,
} from './secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'entrasync-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CANARY = 'canary-7f3a9c-do-not-print';

function context(
  env: Record<string, string | undefined>,
  redactor = new Redactor(),
): SecretContext {
  return { env, baseDir: dir, redactor };
}

const CONFIG = [
  'version: 1',
  'target:',
  '  auth:',
  '    method: secret',
  '    clientSecret: ${env:ENTRA_CLIENT_SECRET}',
  '  tenantId: ${env:ENTRA_TENANT_ID}',
  '  clientId: ${file:client-id.txt}',
  'sources:',
  '  hr: { kind: csv, path: hr.csv, key: employee_id }',
  'users:',
  '  anchor: employee_id',
  '  attributes:',
  '    userPrincipalName: upn',
  '    displayName: name',
  '',
].join('\n');

async function loadSecretConfig(): Promise<{ refs: readonly SecretRef[]; file: string }> {
  const file = join(dir, 'entrasync.yaml');
  writeFileSync(file, CONFIG);
  // Validation needs no secret: nothing is set, nothing is read.
  const loaded = await loadConfig(file);
  return { refs: loaded.secretRefs, file };
}

function catchConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** Everything an error could leak through. */
function everything(err: ConfigError): string {
  return [
    err.message,
    err.stack ?? '',
    JSON.stringify(err.diagnostics),
    inspect(err, { depth: 10 }),
  ].join('\n');
}

describe('secret references', () => {
  it('validate works without any secret available', async () => {
    const { refs } = await loadSecretConfig();
    expect(refs.map((r) => r.text)).toEqual([
      '${env:ENTRA_CLIENT_SECRET}',
      '${env:ENTRA_TENANT_ID}',
      '${file:client-id.txt}',
    ]);
  });

  it('M6: an unset variable fails naming it and the reference position, never a value', async () => {
    const { refs, file } = await loadSecretConfig();
    const clientSecret = refs[0] as SecretRef;
    const err = catchConfigError(() =>
      resolveSecret(clientSecret, context({ ENTRA_TENANT_ID: CANARY, OTHER: CANARY })),
    );
    expect(err.diagnostics).toHaveLength(1);
    expect(err.diagnostics[0]?.code).toBe('secret.env-unset');
    expect(err.message).toBe(
      `${file}:5:19: environment variable \`ENTRA_CLIENT_SECRET\` is not set (referenced by \`target.auth.clientSecret\`) [target.auth.clientSecret]`,
    );
    expect(everything(err)).not.toContain(CANARY);
  });

  it('M6: a set-but-empty (or blank) variable fails the same way', async () => {
    const { refs } = await loadSecretConfig();
    const clientSecret = refs[0] as SecretRef;
    for (const empty of ['', '   ']) {
      const err = catchConfigError(() =>
        resolveSecret(
          clientSecret,
          context({ ENTRA_CLIENT_SECRET: empty, ENTRA_TENANT_ID: CANARY }),
        ),
      );
      expect(err.diagnostics[0]?.code).toBe('secret.env-empty');
      expect(err.message).toContain('environment variable `ENTRA_CLIENT_SECRET` is set but empty');
      expect(everything(err)).not.toContain(CANARY);
    }
  });

  it('resolveSecrets reports every missing reference at once, and no value', async () => {
    const { refs } = await loadSecretConfig();
    rmSync(join(dir, 'client-id.txt'), { force: true });
    const err = catchConfigError(() =>
      resolveSecrets(refs, context({ ENTRA_TENANT_ID: CANARY, ENTRA_CLIENT_SECRET: '' })),
    );
    expect(err.diagnostics.map((d) => d.code)).toEqual([
      'secret.env-empty',
      'secret.file-unreadable',
    ]);
    expect(err.diagnostics[1]?.message).toBe(
      'cannot read secret file `client-id.txt` (ENOENT) (referenced by `target.clientId`)',
    );
    expect(everything(err)).not.toContain(CANARY);
  });

  it('${file:...} resolves relative to the config directory, without the trailing line break', async () => {
    const { refs } = await loadSecretConfig();
    writeFileSync(join(dir, 'client-id.txt'), `${CANARY}-file\n`);
    const redactor = new Redactor();
    const secret = resolveSecret(refs[2] as SecretRef, context({}, redactor));
    expect(secret.reveal()).toBe(`${CANARY}-file`);
    expect(redactor.redact(`id=${CANARY}-file;`)).toBe(`id=${REDACTED};`);

    writeFileSync(join(dir, 'empty.txt'), '\n');
    const err = catchConfigError(() =>
      resolveSecret(createSecretRef('file', 'empty.txt', 'target.clientId'), context({})),
    );
    expect(err.diagnostics[0]?.code).toBe('secret.file-empty');
    expect(err.message).toContain('secret file `empty.txt` is empty');
  });

  it('a resolved secret prints as [redacted] everywhere, and the redactor scrubs it', async () => {
    const { refs } = await loadSecretConfig();
    const redactor = new Redactor();
    const secret = resolveSecret(
      refs[0] as SecretRef,
      context({ ENTRA_CLIENT_SECRET: CANARY }, redactor),
    );
    expect(secret).toBeInstanceOf(Secret);
    expect(secret.reveal()).toBe(CANARY);
    expect(String(secret)).toBe(REDACTED);
    expect(`${secret}`).toBe(REDACTED);
    expect(JSON.stringify({ secret })).toBe(`{"secret":"${REDACTED}"}`);
    expect(inspect(secret)).toBe(REDACTED);
    expect(inspect({ nested: { secret } }, { depth: 5 })).not.toContain(CANARY);
    expect(redactor.redact(`Authorization failed for ${CANARY}.`)).toBe(
      `Authorization failed for ${REDACTED}.`,
    );
  });

  it('resolveConfigValue: literal text stays text, a reference becomes a registered Secret', () => {
    const redactor = new Redactor();
    const ctx = context({ TENANT: 'tenant-guid-1234' }, redactor);
    expect(resolveConfigValue('contoso.onmicrosoft.com', ctx)).toBe('contoso.onmicrosoft.com');
    const resolved = resolveConfigValue(createSecretRef('env', 'TENANT', 'target.tenantId'), ctx);
    expect(resolved).toBeInstanceOf(Secret);
    expect(redactor.redact('tenant-guid-1234')).toBe(REDACTED);
    expect(revealConfigValue(createSecretRef('env', 'TENANT', 'target.tenantId'), ctx)).toBe(
      'tenant-guid-1234',
    );
    expect(revealConfigValue('literal-id', ctx)).toBe('literal-id');
  });

  it('parses only whole, well-formed references', () => {
    expect(parseSecretReference('${env:A_1}')).toEqual({ ok: true, scheme: 'env', name: 'A_1' });
    expect(parseSecretReference('${file:./secrets/x.txt}')).toEqual({
      ok: true,
      scheme: 'file',
      name: './secrets/x.txt',
    });
    expect(parseSecretReference('plain text')).toBeUndefined();
    expect(parseSecretReference('Bearer ${env:TOKEN}')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/must be the whole value/),
    });
    expect(parseSecretReference('${TOKEN}')).toMatchObject({
      ok: false,
      message: expect.stringContaining('did you mean `${env:TOKEN}`?'),
    });
    expect(parseSecretReference('${env:1BAD}')).toMatchObject({ ok: false });
    expect(parseSecretReference('${file: }')).toMatchObject({ ok: false });
  });
});
