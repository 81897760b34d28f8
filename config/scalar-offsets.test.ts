import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Document, isMap, isScalar, parseDocument, Scalar } from 'yaml';
import { scalarValueOffsets } from './scalar-offsets.js';

/** Parses `key: <scalar>` text and returns the value node and its offsets. */
function offsetsOf(source: string): { value: string; offsets: number[] | undefined } {
  const doc = parseDocument(source);
  const contents = doc.contents;
  if (!isMap(contents)) throw new Error('expected a mapping');
  const node = contents.items[0]?.value;
  if (!isScalar(node) || typeof node.value !== 'string') throw new Error('expected a string');
  return { value: node.value, offsets: scalarValueOffsets(source, node) };
}

/** The source character each value character maps to. */
function mapped(source: string): string {
  const { offsets, value } = offsetsOf(source);
  if (!offsets) throw new Error('no offsets');
  expect(offsets).toHaveLength(value.length + 1);
  return offsets
    .slice(0, -1)
    .map((o) => source[o])
    .join('');
}

describe('scalarValueOffsets', () => {
  it('plain: one to one', () => {
    const src = 'k: a & b\n';
    expect(offsetsOf(src).offsets).toEqual([3, 4, 5, 6, 7, 8]);
  });

  it('plain over several lines: a line break folds to a space, a blank line to a line break', () => {
    const src = 'k: a\n  b\n\n  c\n';
    const { value, offsets } = offsetsOf(src);
    expect(value).toBe('a b\nc');
    expect(offsets).toEqual([3, 4, 7, 9, 12, 13]);
  });

  it("single-quoted: `''` is one quote, at the first of the pair", () => {
    const src = "k: 'it''s'\n";
    const { value, offsets } = offsetsOf(src);
    expect(value).toBe("it's");
    expect(offsets).toEqual([4, 5, 6, 8, 9]);
  });

  it('double-quoted: an escape maps to its backslash', () => {
    const src = 'k: "a\\tb\\u00e9c\\"d"\n';
    const { value, offsets } = offsetsOf(src);
    expect(value).toBe('a\tbéc"d');
    expect(offsets).toEqual([4, 5, 7, 8, 14, 15, 17, 18]);
  });

  it('double-quoted: an escaped line break joins the lines without a space', () => {
    const src = 'k: "ab \\\n    cd"\n';
    const { value } = offsetsOf(src);
    expect(value).toBe('ab cd');
    expect(mapped(src)).toBe('ab cd');
  });

  it('literal block: indentation dropped, line breaks kept', () => {
    const src = 'k: |\n  ab\n   c\n\n  d\n';
    const { value } = offsetsOf(src);
    expect(value).toBe('ab\n c\n\nd\n');
    expect(mapped(src)).toBe('ab\n c\n\nd\n');
  });

  it('folded block: normal lines fold, more-indented lines keep their breaks', () => {
    const src = 'k: >\n  a\n  b\n\n  c\n    d\n  e\n';
    const { value } = offsetsOf(src);
    expect(value).toBe('a b\nc\n  d\ne\n');
    const { offsets } = offsetsOf(src);
    // `d` is the 10th character of the value; it sits at column 5 of line 6.
    expect(offsets?.[value.indexOf('d')]).toBe(src.indexOf('    d') + 4);
  });

  it('falls back (undefined) for an explicit indentation indicator', () => {
    expect(offsetsOf('k: |2\n   a\n').offsets).toBeUndefined();
  });

  it('maps every character of generated scalars in every style (property)', () => {
    const alphabet = fc.constantFrom(
      'a',
      'b',
      ' ',
      ' ',
      '\n',
      '\t',
      "'",
      '"',
      '\\',
      '#',
      ':',
      'é',
      '€',
      '😀',
      '&',
      '-',
    );
    const styles = [
      Scalar.PLAIN,
      Scalar.QUOTE_SINGLE,
      Scalar.QUOTE_DOUBLE,
      Scalar.BLOCK_LITERAL,
      Scalar.BLOCK_FOLDED,
    ] as const;
    fc.assert(
      fc.property(
        fc.array(alphabet, { minLength: 1, maxLength: 60 }).map((cs) => cs.join('')),
        fc.constantFrom(...styles),
        fc.integer({ min: 0, max: 3 }),
        (text, style, depth) => {
          const scalar = new Scalar(text);
          scalar.type = style;
          let value: unknown = scalar;
          for (let i = 0; i < depth; i++) value = { [`level${i}`]: value };
          const doc = new Document({ k: value });
          const source = doc.toString({ lineWidth: 24, minContentWidth: 8 });
          const parsed = parseDocument(source);
          let node: unknown = parsed.contents;
          for (const key of [
            'k',
            ...Array.from({ length: depth }, (_, i) => `level${depth - 1 - i}`),
          ]) {
            node = isMap(node) ? node.get(key, true) : undefined;
          }
          if (!isScalar(node) || node.value !== text) return; // yaml chose another representation
          const offsets = scalarValueOffsets(source, node);
          if (offsets === undefined) {
            // Only an explicit indentation indicator may defeat the decoder.
            const header = source.slice(node.range?.[0], source.indexOf('\n', node.range?.[0]));
            expect(header).toMatch(/^[|>][-+]?[1-9]/);
            return;
          }
          expect(offsets).toHaveLength(text.length + 1);
          for (let k = 0; k < text.length; k++) {
            const at = offsets[k] as number;
            if (k > 0) expect(at).toBeGreaterThanOrEqual(offsets[k - 1] as number);
            const c = text[k] as string;
            const s = source[at] as string;
            if (s === c) continue;
            // Not the character itself: an escape (its backslash), or white space produced by
            // folding (at a line break or at a blank line's indentation).
            const explained = s === '\\' || ((c === ' ' || c === '\n') && /[\n\r \t]/.test(s));
            expect(
              explained,
              `char ${k} ${JSON.stringify(c)} -> ${JSON.stringify(s)} in ${JSON.stringify(source)}`,
            ).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
