/**
 * The explicit connector registry (style practice 9): source kinds map to factories. Adding a
 * kind means adding its options schema to config/schema.ts and a line here.
 */
import type { ConnectorContext, SourceConnector, SourceWriter } from '../engine/ports.js';
import type { WritebackSourceConfig } from '../config/writeback.js';
import { createHttpWriteback } from './http/writeback.js';
import { createLdapWriteback } from './ldap/writeback.js';
import { createCsvSource } from './csv/csv-source.js';
import type { CsvSourceOptions } from '../config/sources/csv-options.js';
import { createHttpSource } from './http/http-source.js';
import type { HttpSourceOptions } from '../config/sources/http-options.js';
import { createLdapSource } from './ldap/ldap-source.js';
import type { LdapSourceOptions } from '../config/sources/ldap-options.js';

export type SourceOptions = CsvSourceOptions | LdapSourceOptions | HttpSourceOptions;

type SourceFactory<O> = (name: string, options: O, context: ConnectorContext) => SourceConnector;

const SOURCE_FACTORIES: {
  [K in SourceOptions['kind']]: SourceFactory<Extract<SourceOptions, { kind: K }>>;
} = {
  csv: createCsvSource,
  ldap: (name, options, context) => createLdapSource(name, options, context),
  http: createHttpSource,
};

export function createSource(
  name: string,
  options: SourceOptions,
  context: ConnectorContext,
): SourceConnector {
  const factory = SOURCE_FACTORIES[options.kind] as SourceFactory<SourceOptions> | undefined;
  if (!factory) throw new Error(`no connector for source kind "${String(options.kind)}"`);
  return factory(name, options, context);
}

/**
 * The writer of `writeback.<name>` for a source (issue 26): ldap and http sources; made only at
 * apply. Undefined for a kind that cannot be written (config checks refuse that earlier).
 */
export function createSourceWriter(
  name: string,
  options: SourceOptions,
  writeback: WritebackSourceConfig,
  context: ConnectorContext,
): SourceWriter | undefined {
  if (options.kind === 'ldap') return createLdapWriteback(name, options, writeback, context);
  if (options.kind === 'http') return createHttpWriteback(name, options, writeback, context);
  return undefined;
}
