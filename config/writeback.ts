/**
 * `writeback:` (issue 26): which Entra values go back to which source records after an apply.
 * The schema, the checks across sections (a source that exists and can be written), and the
 * engine's `WritebackSpec`. Credentials for the writes are secret references resolved by the
 * connector when it writes (apply), never when the config loads or a plan is made.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Document } from 'yaml';
import type { Diagnostic } from '../engine/model/diagnostic.js';
import type { WritebackSpec } from '../engine/model/writeback.js';
import type { SourceLocator } from './diagnostics.js';
import { configError, positionOfKey } from './diagnostics.js';
import { SecretReference } from './schema-slots.js';

export const WritebackSourceConfig = Type.Object(
  {
    attributes: Type.Record(
      Type.String({ minLength: 1 }),
      Type.String({
        minLength: 1,
        description:
          'The Entra attribute whose value is written: `id` (object id), `userPrincipalName`, `mail`, `onPremisesImmutableId`, or any attribute the config maps or reads.',
      }),
      {
        minProperties: 1,
        description:
          'Source field (LDAP attribute, JSON property, SCIM attribute) -> the Entra attribute written to it. A field that already holds the value is not written.',
      },
    ),
    bindDn: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'LDAP: bind as this DN for the writes (with `password`); default the source\u2019s own bind. Only the apply binds with it.',
      }),
    ),
    password: Type.Optional(
      SecretReference(
        'LDAP: password of `bindDn`, as a reference (`${env:AD_WRITE_PASSWORD}`), resolved only when the apply writes.',
      ),
    ),
    token: Type.Optional(
      SecretReference(
        'HTTP: bearer token for the writes, as a reference; default the source\u2019s own `auth`. Resolved only when the apply writes.',
      ),
    ),
    url: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: '\\{id\\}',
        description:
          'HTTP: the URL of one record, `{id}` standing for its id (`https://hr.example/api/workers/{id}`). Default: the source URL (without its query) + `/{id}`, the SCIM resource URL for `api: scim`.',
      }),
    ),
    idField: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'HTTP: the record field holding the id in `url`. Default `id` for `api: scim`, else the source key.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'What is written back to one source, and with which credentials.',
  },
);

export const WritebackConfig = Type.Record(Type.String(), WritebackSourceConfig, {
  description:
    'Entra values written back to the source records people came from, after each apply (LDAP modify, HTTP PATCH, SCIM PatchOp): source name -> `attributes`. Planned and shown like every other change (`Write-back` in the plan), braked by `safety.maxWritebacks`, held while the source is not complete, never written when the source holds the value already. See README "Write-back to the sources".',
});
export type WritebackConfig = Static<typeof WritebackConfig>;
export type WritebackSourceConfig = Static<typeof WritebackSourceConfig>;

const LDAP_ONLY = ['bindDn', 'password'] as const;
const HTTP_ONLY = ['token', 'url', 'idField'] as const;

/** `writeback` names existing sources of a kind that can be written, with options of that kind. */
export function writebackDiagnostics(
  writeback: Record<string, unknown> | undefined,
  sources: Record<string, unknown> | undefined,
  doc: Document,
  locator: SourceLocator,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const names = Object.keys(sources ?? {});
  for (const [name, entry] of Object.entries(writeback ?? {})) {
    const at = (...rest: string[]) => ['writeback', name, ...rest];
    const source = sources?.[name] as Record<string, unknown> | undefined;
    if (!source) {
      out.push(
        configError(
          'config.unknown-source',
          `\`writeback\` names \`${name}\`, which is not a source (sources: ${names.map((n) => `\`${n}\``).join(', ')})`,
          at(),
          positionOfKey(doc, locator, at()),
        ),
      );
      continue;
    }
    const kind = source['kind'];
    if (kind !== 'ldap' && kind !== 'http') {
      out.push(
        configError(
          'config.not-applicable',
          `\`writeback.${name}\`: source \`${name}\` is a ${String(kind)} source; write-back goes to ldap and http sources only`,
          at(),
          positionOfKey(doc, locator, at()),
        ),
      );
      continue;
    }
    const options = (entry ?? {}) as Record<string, unknown>;
    const foreign = kind === 'ldap' ? HTTP_ONLY : LDAP_ONLY;
    for (const key of foreign) {
      if (options[key] === undefined) continue;
      out.push(
        configError(
          'config.not-applicable',
          `\`writeback.${name}.${key}\` does not apply to an ${kind} source`,
          at(key),
          positionOfKey(doc, locator, at(key)),
        ),
      );
    }
    // A field the read does not fetch would look empty every run: written again and again.
    const read = kind === 'ldap' ? source['attributes'] : undefined;
    if (Array.isArray(read)) {
      const names = new Set(read.map((a) => String(a).toLowerCase()));
      for (const field of Object.keys(asRecord(options['attributes']))) {
        if (names.has(field.toLowerCase())) continue;
        out.push(
          configError(
            'config.not-applicable',
            `\`writeback.${name}.attributes.${field}\`: \`sources.${name}.attributes\` does not read \`${field}\`, so the plan could not see that the entry holds the value already; add it there`,
            at('attributes', field),
            positionOfKey(doc, locator, at('attributes', field)),
          ),
        );
      }
    }
    if ((options['bindDn'] === undefined) !== (options['password'] === undefined)) {
      out.push(
        configError(
          'config.missing-key',
          `\`writeback.${name}\`: \`bindDn\` and \`password\` go together (the write bind)`,
          at(),
          positionOfKey(doc, locator, at()),
        ),
      );
    }
  }
  return out;
}

/** The engine's view: per source, the fields and the Entra attributes they take. */
export function buildWritebackSpecs(
  writeback: WritebackConfig | undefined,
  sources: Readonly<Record<string, { readonly kind: string; readonly api?: string }>>,
): WritebackSpec[] | undefined {
  if (writeback === undefined) return undefined;
  return Object.entries(writeback).map(([source, entry]) => {
    const scim = sources[source]?.api === 'scim';
    const idField = entry.idField ?? (scim ? 'id' : undefined);
    return {
      source,
      attributes: Object.entries(entry.attributes).map(([field, from]) => ({ field, from })),
      ...(idField === undefined ? {} : { idField }),
    };
  });
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
