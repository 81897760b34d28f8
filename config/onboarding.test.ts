/**
 * `users.onboarding` in the loader (catalogue N16-N18): absent keeps the digest and the spec of
 * before; the rules between its fields, each at its line; the template file checked when the
 * delivery settings are loaded.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../engine/errors.js';
import { parseDeliveryTemplate } from '../engine/render/onboarding-template.js';
import { parseConfig } from './load.js';
import { loadDeliverySettings } from './onboarding.js';

const temps: string[] = [];
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

const BASE = `version: 1
target:
  auth: { method: simulator }
sources:
  hr: { kind: csv, path: hr.csv, key: id }
users:
  anchor: id
  manager: boss
  attributes:
    userPrincipalName: upn
    displayName: name
`;

function errorsOf(onboarding: string, base = BASE): string[] {
  try {
    parseConfig(`${base}  onboarding:\n${onboarding}`, { file: 'entrasync.yaml' });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.diagnostics.map((d) => `${d.position?.line ?? '?'}: ${d.message}`);
  }
}

describe('users.onboarding (config)', () => {
  it('N16: absent: no onboarding in the spec and the digest of before; present: the spec the planner needs', () => {
    const without = parseConfig(BASE, { file: 'entrasync.yaml' });
    expect(without.spec.users.onboarding).toBeUndefined();
    expect(without.config.users.onboarding).toBeUndefined();
    const none = parseConfig(`${BASE}  onboarding: { credential: none }\n`, {
      file: 'entrasync.yaml',
    });
    expect(none.spec.users.onboarding).toBeUndefined();
    const tap = parseConfig(
      `${BASE}  onboarding:
    credential: tap
    lifetime: 1d
    startAt: hire_date
    delivery: { via: email, from: it@contoso.com, template: t.txt }
`,
      { file: 'entrasync.yaml' },
    );
    expect(tap.spec.users.onboarding).toMatchObject({
      credential: 'tap',
      stateAttribute: 'onPremisesExtensionAttributes.extensionAttribute13',
      tap: { lifetimeInMinutes: 1440, isUsableOnce: false, startAt: { text: 'hire_date' } },
      delivery: { channel: 'email', to: 'manager', mailbox: 'it@contoso.com' },
    });
    expect(tap.spec.configDigest).not.toBe(without.spec.configDigest);
  });

  it('N17: the rules between the fields, each at its line', () => {
    expect(errorsOf('    credential: tap\n')).toEqual([
      '13: `users.onboarding.credential: tap` needs `users.onboarding.delivery`: a credential nobody receives is an account nobody can use',
    ]);
    expect(
      errorsOf(
        '    credential: password\n    lifetime: 8h\n    delivery: { via: email, from: a@b.c, to: sponsor, template: t }\n',
      ),
    ).toEqual([
      '14: `users.onboarding.lifetime` is about a Temporary Access Pass: it needs `credential: tap`',
      '15: `users.onboarding.delivery.to: sponsor` needs `delivery.sponsor`, the expression giving the address',
    ]);
    expect(
      errorsOf(
        '    credential: tap\n    lifetime: 5m\n    delivery: { via: webhook, url: "${env:HOOK}", to: personal, address: private_email }\n',
      ),
    ).toEqual([
      '14: `users.onboarding.lifetime` 5m is outside what Graph allows for a Temporary Access Pass (10m to 30d)',
    ]);
    const noManager = BASE.replace('  manager: boss\n', '');
    expect(
      errorsOf(
        '    credential: tap\n    delivery: { via: email, from: a@b.c, template: t }\n',
        noManager,
      ),
    ).toEqual([
      '13: `users.onboarding.delivery.to: manager` needs `users.manager`: without it no new hire has a manager to receive the credential',
    ]);
    expect(
      errorsOf(
        '    credential: tap\n    stateAttribute: extensionAttribute15\n    delivery: { via: email, from: a@b.c, template: t }\n',
      ),
    ).toEqual([
      '14: `users.onboarding.stateAttribute` `extensionAttribute15` is already `target.marker.attribute`: pick another extension attribute',
    ]);
    expect(
      errorsOf('    credential: none\n    delivery: { via: email, from: a@b.c, template: t }\n'),
    ).toEqual([
      '14: `users.onboarding.credential: none` has nothing to deliver; remove `delivery`',
    ]);
  });

  it('N18: the template: subject line, blank line, known placeholders, the credential in the body only; a missing file is a config error', async () => {
    expect(parseDeliveryTemplate('Subject: Hi {{name}}\n\nPass: {{credential}}\n')).toEqual({
      ok: true,
      template: { subject: 'Hi {{name}}', body: 'Pass: {{credential}}\n' },
    });
    const bad = (text: string) => {
      const r = parseDeliveryTemplate(text);
      return r.ok ? 'ok' : r.message;
    };
    expect(bad('Hi\n\n{{credential}}')).toBe('the first line must be `Subject: <subject>`');
    expect(bad('Subject: x\nbody {{credential}}')).toBe(
      'a blank line must follow the subject line',
    );
    expect(bad('Subject: x\n\n{{credential}} {{salary}}')).toMatch(
      /^unknown placeholder \{\{salary\}\}/,
    );
    expect(bad('Subject: x\n\nno pass here')).toMatch(/must contain \{\{credential\}\}/);
    expect(bad('Subject: {{credential}}\n\n{{credential}}')).toMatch(/belongs in the body/);

    const dir = mkdtempSync(join(tmpdir(), 'entrasync-onboarding-config-'));
    temps.push(dir);
    const onboarding = {
      credential: 'tap' as const,
      delivery: { via: 'email' as const, from: 'it@contoso.com', template: 'mail.txt' },
    };
    await expect(loadDeliverySettings(onboarding, dir)).rejects.toThrow(
      'cannot read the onboarding template `mail.txt` (ENOENT)',
    );
    writeFileSync(join(dir, 'mail.txt'), 'Subject: Welcome\n\nno credential\n');
    await expect(loadDeliverySettings(onboarding, dir)).rejects.toThrow(
      'onboarding template `mail.txt`: the body must contain {{credential}}',
    );
    writeFileSync(join(dir, 'mail.txt'), 'Subject: Welcome\n\n{{credential}}\n');
    await expect(loadDeliverySettings(onboarding, dir)).resolves.toMatchObject({
      channel: 'email',
      from: 'it@contoso.com',
      template: { subject: 'Welcome' },
    });
  });
});
