/**
 * A cheap stamp of the inputs of a config's local file sources (CSV): each file's size and
 * modification time, read with one `stat` and no parsing. The daemon's run gate compares it
 * between ticks to clear the back-off once a failing export is replaced (issue 22). Sources read
 * over the network (LDAP, HTTP) have no cheap stamp: only a read shows whether they changed.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

export interface StampedSource {
  readonly kind: string;
  readonly path?: unknown;
}

/** A function giving the current stamp; undefined when no source is a local file. */
export function sourceStamp(
  sources: Readonly<Record<string, StampedSource>>,
  baseDir: string,
): (() => string | undefined) | undefined {
  const files = Object.values(sources).flatMap((s) =>
    s.kind === 'csv' && typeof s.path === 'string' && !/^[a-z]+:\/\//i.test(s.path)
      ? [resolve(baseDir, s.path)]
      : [],
  );
  if (files.length === 0) return undefined;
  return () =>
    files
      .map((file) => {
        try {
          const st = statSync(file);
          return `${file}:${st.size}:${st.mtimeMs}`;
        } catch {
          return `${file}:missing`;
        }
      })
      .join('|');
}
