import type { RecordLocation, SourceRecord } from './source.js';

/** Where a desired value or change came from: a source record, and the config rule that used it. */
export interface Provenance {
  readonly source: string;
  readonly key: string;
  readonly location: RecordLocation;
}

/** One human, joined across sources. `key` is `<primary source>:<primary key>`. */
export interface Person {
  readonly key: string;
  readonly primary: SourceRecord;
  /** Records by source name (the primary included). */
  readonly records: Readonly<Record<string, SourceRecord>>;
}
