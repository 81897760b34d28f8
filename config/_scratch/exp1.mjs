import { Type, Kind } from '@sinclair/typebox';
const S = Symbol('slot');
const a = Type.String({minLength:1}); a[S]='secret';
const o = Type.Object({ x: a, y: Type.Optional(a) });
console.log(o.properties.x === a, o.properties.x[S], o.properties.y[S]);
console.log(JSON.stringify(Type.Record(Type.String(), Type.Number(), {propertyNames:{pattern:'^a$'}, minProperties:1})));
console.log(JSON.stringify(Type.Union([Type.Literal('a')])));
console.log(JSON.stringify(Type.Union([Type.Literal('a'), Type.Literal('b')],{default:'a'})));
const u = Type.Unsafe(Type.String({pattern:'x'})); console.log(JSON.stringify(u), u[Kind]);
