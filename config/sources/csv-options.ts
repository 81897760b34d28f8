import { Type, type Static } from '@sinclair/typebox';

export const CsvSourceOptions = Type.Object(
  {
    kind: Type.Literal('csv', { description: 'A CSV file, e.g. an HR export.' }),
    path: Type.String({
      minLength: 1,
      description:
        'CSV file to read, relative to the config file. A header row is required; its names become the fields of every record.',
    }),
    key: Type.String({
      minLength: 1,
      description:
        'Header of the column that identifies a person uniquely within this source. A row with an empty key is left out and makes the source incomplete.',
    }),
    delimiter: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1,
        default: ',',
        description:
          'Field delimiter: one character other than a double quote or a line break, e.g. ";" or a tab.',
      }),
    ),
    encoding: Type.Optional(
      Type.Union([Type.Literal('utf8'), Type.Literal('utf16le'), Type.Literal('latin1')], {
        default: 'utf8',
        description:
          'File encoding. A UTF-8 or UTF-16LE byte-order mark is always honoured. latin1 is read as windows-1252 (its WHATWG meaning), so Excel "ANSI" exports keep ’ and €.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'A CSV export, e.g. from an HR system. Values are read as strings, never cast or trimmed; any malformed line fails the whole source.',
  },
);
export type CsvSourceOptions = Static<typeof CsvSourceOptions>;
