/**
 * The plan JSON's `writebacks` section (issue 26), part of plan.schema.json (plan-schema.ts).
 * Kept apart so the write-back types (engine/model/writeback.ts) and their schema sit together.
 */
import { Type } from '@sinclair/typebox';

const closed = { additionalProperties: false } as const;
const text = (description: string) => Type.String({ description });

const WritebackChangeSchema = Type.Object(
  {
    id: text('`writeback:<source>:<record key>`'),
    source: text('the source written to'),
    record: Type.Object(
      {
        key: text('the record key'),
        dn: Type.Optional(text('LDAP: the entry written')),
        id: Type.Optional(text('HTTP: the value that names the record in the write URL')),
      },
      { ...closed, description: 'the source record' },
    ),
    user: Type.Object(
      { id: text('Graph object id'), userPrincipalName: text('userPrincipalName') },
      { ...closed, description: 'the account the values come from' },
    ),
    set: Type.Array(
      Type.Object(
        {
          field: text('the source field written'),
          from: text('the Entra attribute its value comes from'),
          before: Type.Union([Type.String(), Type.Null()], {
            description: 'what the source holds (null: nothing)',
          }),
          after: text('what is written'),
        },
        { ...closed, description: 'one field' },
      ),
      { description: 'the fields written, in one LDAP modify or one PATCH' },
    ),
    message: text('one line for people'),
  },
  { ...closed, description: 'a write-back to one source record' },
);

export const WritebackSectionSchema = Type.Object(
  {
    changes: Type.Array(WritebackChangeSchema, {
      description: 'write-backs applied after the Graph changes',
    }),
    blocked: Type.Array(
      Type.Object(
        {
          change: WritebackChangeSchema,
          code: text('`source-unhealthy` or `threshold`'),
          message: text('why it is held'),
        },
        { ...closed, description: 'a held write-back' },
      ),
      { description: 'write-backs held by a brake' },
    ),
  },
  {
    ...closed,
    description:
      'Entra values written back to source records (`writeback`); absent without that section',
  },
);
