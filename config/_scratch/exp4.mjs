import { Type } from '@sinclair/typebox';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
const S = Symbol('slot');
const sec = Type.String({ pattern: '^\\$\\{env:[A-Z]+\\}$', patternErrorMessage: 'must be ref' }); sec[S] = 'secret';
const A1 = Type.Object({ method: Type.Literal('simulator') }, { additionalProperties: false });
const A2 = Type.Object({ method: Type.Literal('secret'), clientSecret: sec }, { additionalProperties: false });
const Root = Type.Object({ version: Type.Literal(1), auth: Type.Union([A1, A2]), act: Type.Union([Type.Literal('a'), Type.Literal('b')]), url: Type.Optional(Type.String({format:'uri'})),
  srcs: Type.Record(Type.String(), Type.Object({kind: Type.Literal('csv')}, {additionalProperties:false}), { propertyNames: { pattern: '^[a-z]+$' }, minProperties: 1 }),
  m: Type.Array(Type.String(), {uniqueItems: true}) }, { additionalProperties: false });
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
ajv.addVocabulary(['patternErrorMessage']);
addFormats(ajv);
const v = ajv.compile(Root);
v({ version: 2, auth: { method: 'secret', clientSecret: 'x', extra: 1 }, act: 'c', url: 'not a url', srcs: { 'A-b': { kind: 'cvs' } }, m: ['a','b','a'], zz: 1 });
for (const e of v.errors) console.log(e.instancePath, e.schemaPath, e.keyword, JSON.stringify(e.params), e.message, e.propertyName, e.parentSchema?.[S]);
