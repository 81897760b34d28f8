import { Type, type Static } from '@sinclair/typebox';

export const CsvSourceOptions = Type.Object(
  {
    kind: Type.Literal('csv'),
    path: Type.String({
      minLength: 1,
      description: 'CSV file to read, relative to the config file. A header row is required.',
    }),
    key: Type.String({
      minLength: 1,
      description: 'Header of the column that identifies a person uniquely within this source.',
    }),
    delimiter: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1, default: ',', description: 'Field delimiter.' }),
    ),
    encoding: Type.Optional(
      Type.Union([Type.Literal('utf8'), Type.Literal('utf16le'), Type.Literal('latin1')], {
        default: 'utf8',
        description: 'File encoding. A UTF-8 or UTF-16LE byte-order mark is always honoured.',
      }),
    ),
  },
  { additionalProperties: false, description: 'A CSV export, e.g. from an HR system.' },
);
export type CsvSourceOptions = Static<typeof CsvSourceOptions>;
