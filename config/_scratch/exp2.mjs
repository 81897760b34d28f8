import { parseDocument, LineCounter, isScalar, isMap } from 'yaml';
const src = `a: plain text\nb: 'single ''q'''\nc: "dbl \\n x"\nd: |\n  line1\n  line2\ne: >-\n  f1\n  f2\nf: multi\n  line plain\ng:\nh: { k: v }\n`;
const lc = new LineCounter();
const doc = parseDocument(src, { lineCounter: lc, prettyErrors: false });
for (const p of doc.contents.items) { const v = p.value; console.log(p.key.value, p.key.range, v && v.type, v && v.range, JSON.stringify(v && v.value), v && JSON.stringify(src.slice(v.range[0], v.range[1])), v && v.source); }
console.log(lc.linePos(0), lc.linePos(3));
const bad = parseDocument('a: b: c\nx: [1,\n', { lineCounter: new LineCounter(), prettyErrors: false });
console.log(bad.errors.map(e => [e.code, e.message, e.pos, e.linePos]));
