/**
 * A fresh copy of one of `examples/` in a temporary directory, as a user would have it after
 * copying the example (its `.entrasync` state left behind): for end-to-end tests that edit the
 * example's files and run the CLI on them. `removeWorkspaces` (in `afterAll`) deletes them all.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
const made: string[] = [];

export interface Workspace {
  /** The copy's directory. */
  readonly work: string;
  /** Its `entrasync.yaml`. */
  readonly config: string;
}

export function exampleWorkspace(example: string, prefix = 'entrasync-'): Workspace {
  const work = mkdtempSync(join(tmpdir(), prefix));
  made.push(work);
  cpSync(join(EXAMPLES, example), work, {
    recursive: true,
    filter: (p) => !p.includes('.entrasync'),
  });
  return { work, config: join(work, 'entrasync.yaml') };
}

export function removeWorkspaces(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
