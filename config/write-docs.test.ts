import { describe, expect, it } from 'vitest';
import { listSchemaEntries } from './schema-entries.js';
import {
  CONFIG_REFERENCE_END,
  CONFIG_REFERENCE_START,
  renderConfigReference,
  replaceConfigReference,
} from './write-docs.js';

describe('renderConfigReference', () => {
  const reference = renderConfigReference();

  it('lists every key path with a description', () => {
    const entries = listSchemaEntries();
    expect(entries.length).toBeGreaterThan(40);
    for (const e of entries) {
      expect(e.description, e.path).not.toBe('');
      expect(reference).toContain(`| \`${e.path}\``);
    }
  });

  it('shows types, defaults, allowed values and variant conditions', () => {
    expect(reference).toContain(
      '| `target.auth.clientSecret`<br>when `method: secret` | secret reference | yes |',
    );
    expect(reference).toContain(
      '| `users.deprovision.action` | string: one of `disable`, `delete`, `none` | no | `disable` |',
    );
    expect(reference).toContain(
      '| `users.match` | list of string: one of `anchor`, `userPrincipalName`, `mail` | no | `[anchor, userPrincipalName]` |',
    );
    expect(reference).toContain(
      '| `users.attributes.accountEnabled` | JSONata expression | no | `true` |',
    );
    expect(reference).toContain(
      '| `sources.<name>.kind` | string: one of `csv`, `ldap`, `http` | yes |  | Selects the variant: `csv`: A CSV file, e.g. an HR export;',
    );
    expect(reference).toContain('### `users`');
  });
});

describe('replaceConfigReference', () => {
  const readme = [
    '# entrasync',
    '',
    CONFIG_REFERENCE_START,
    'old text',
    CONFIG_REFERENCE_END,
    '',
    'More.',
    '',
  ].join('\n');

  it('replaces only the text between the markers, and is idempotent', () => {
    const once = replaceConfigReference(readme, 'NEW\n');
    expect(once).toBe(
      [
        '# entrasync',
        '',
        CONFIG_REFERENCE_START,
        '',
        'NEW',
        '',
        CONFIG_REFERENCE_END,
        '',
        'More.',
        '',
      ].join('\n'),
    );
    expect(replaceConfigReference(once, 'NEW\n')).toBe(once);
    expect(replaceConfigReference(readme)).toContain('`users.anchor`');
  });

  it('refuses Markdown without the markers', () => {
    expect(() => replaceConfigReference('# no markers')).toThrow(/config-reference:start/);
    expect(() =>
      replaceConfigReference(`${CONFIG_REFERENCE_END}\n${CONFIG_REFERENCE_START}`),
    ).toThrow();
  });
});
