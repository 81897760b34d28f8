/**
 * Seed files: `{ "users": [ { ...Graph user properties, "id"?: "<guid>" } ] }`, applied once to
 * a new state. Entries are checked with the same rules as `POST /users` (a password is not
 * needed, and read-only properties such as `onPremisesSyncEnabled` and `createdDateTime` may be
 * set), so a seed cannot hold a tenant Graph itself could not. Every error names the file and
 * the entry's index.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { GraphError } from './errors.js';
import {
  compactUser,
  nowDateTimeOffset,
  isPlainObject,
  validateUserWrite,
} from './graph/user-schema.js';
import type { UserDocument } from './store.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class SeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedError';
  }
}

export async function loadSeed(seedPath: string): Promise<UserDocument[]> {
  let text: string;
  try {
    text = await readFile(seedPath, 'utf8');
  } catch (error) {
    throw new SeedError(`Seed file ${seedPath} cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SeedError(`Seed file ${seedPath} is not valid JSON: ${(error as Error).message}`);
  }
  return parseSeed(parsed, seedPath);
}

/** Validates a parsed seed document; `source` names it in errors. */
export function parseSeed(seed: unknown, source: string): UserDocument[] {
  if (!isPlainObject(seed) || !Array.isArray(seed['users'])) {
    throw new SeedError(`Seed file ${source}: expected an object with a "users" array.`);
  }
  const unknownKeys = Object.keys(seed).filter((k) => k !== 'users' && !k.startsWith('$'));
  if (unknownKeys.length > 0) {
    throw new SeedError(`Seed file ${source}: unknown top-level key "${unknownKeys[0]}".`);
  }
  const createdDateTime = nowDateTimeOffset();
  const seenUpn = new Map<string, number>();
  const seenId = new Map<string, number>();
  const seenImmutableId = new Map<string, number>();
  return (seed['users'] as unknown[]).map((entry, index) => {
    const where = `Seed file ${source}: users[${index}]`;
    if (!isPlainObject(entry)) throw new SeedError(`${where}: expected an object.`);
    let changes: Record<string, unknown>;
    try {
      const { id: _id, ...properties } = entry;
      changes = validateUserWrite(properties, 'seed');
    } catch (error) {
      if (error instanceof GraphError) throw new SeedError(`${where}: ${error.message}`);
      throw error;
    }
    const rawId = entry['id'];
    if (rawId !== undefined && (typeof rawId !== 'string' || !GUID.test(rawId))) {
      throw new SeedError(`${where}: "id" must be a GUID.`);
    }
    const id = (rawId ?? randomUUID()).toLowerCase();
    const upn = String(changes['userPrincipalName']);
    const immutableId = changes['onPremisesImmutableId'];
    const duplicate = (map: Map<string, number>, key: string, what: string): void => {
      const first = map.get(key);
      if (first !== undefined) {
        throw new SeedError(`${where}: ${what} is already used by users[${first}].`);
      }
      map.set(key, index);
    };
    duplicate(seenUpn, upn.toLowerCase(), `userPrincipalName "${upn}"`);
    duplicate(seenId, id, `id "${id}"`);
    if (typeof immutableId === 'string') {
      duplicate(seenImmutableId, immutableId, `onPremisesImmutableId "${immutableId}"`);
    }
    return compactUser({ userType: 'Member', createdDateTime, ...changes, id }) as UserDocument;
  });
}
