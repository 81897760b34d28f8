/**
 * Writes one change through Graph. Per-object failures come back as results, never exceptions
 * (invariant 6). The initial password of a created user is generated here, sent once in the
 * request body and kept nowhere: not in the plan, the report or any log.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { Change } from '../../engine/model/plan.js';
import type { TargetWriter, WriteResult } from '../../engine/ports.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import { unflatten } from './attributes.js';
import { toTargetError } from './errors.js';

export function createEntraWriter(client: Client): TargetWriter {
  return {
    apiVersion: PORT_API_VERSION,
    async apply(change: Change): Promise<WriteResult> {
      try {
        switch (change.kind) {
          case 'createUser': {
            const body = {
              ...unflatten(change.attributes),
              passwordProfile: { password: initialPassword(), forceChangePasswordNextSignIn: true },
            };
            const created = (await client.api('/users').post(body)) as { id?: string };
            return { ok: true, ...(created.id ? { targetId: created.id } : {}) };
          }
          case 'updateUser':
          case 'adoptUser': {
            const attributes = Object.fromEntries(change.set.map((c) => [c.attribute, c.after]));
            await client
              .api(`/users/${encodeURIComponent(change.user.id)}`)
              .patch(unflatten(attributes));
            return { ok: true, targetId: change.user.id };
          }
          case 'enableUser':
          case 'disableUser':
            await client
              .api(`/users/${encodeURIComponent(change.user.id)}`)
              .patch({ accountEnabled: change.kind === 'enableUser' });
            return { ok: true, targetId: change.user.id };
        }
      } catch (err) {
        return { ok: false, error: toTargetError(err) };
      }
    },
  };
}

const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const DIGIT = '23456789';
const SYMBOL = '!#%+-=?@';

/** 24 random characters with every class Entra's complexity rule asks for. */
export function initialPassword(): string {
  const all = UPPER + LOWER + DIGIT + SYMBOL;
  const chars = [pick(UPPER), pick(LOWER), pick(DIGIT), pick(SYMBOL)];
  for (const byte of randomBytes(20)) chars.push(all[byte % all.length] ?? 'x');
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] ?? '', chars[i] ?? ''];
  }
  return chars.join('');
}

function pick(alphabet: string): string {
  return alphabet[randomInt(alphabet.length)] ?? alphabet[0] ?? '';
}
