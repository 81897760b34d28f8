import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import type { Diagnostic } from '../engine/model/diagnostic.js';
import {
  createSourceLocator,
  findNode,
  formatConfigPath,
  formatDiagnostics,
  parseJsonPointer,
  positionOfValue,
} from './diagnostics.js';

describe('config paths', () => {
  it('formats and parses', () => {
    expect(formatConfigPath(['users', 'match', 1])).toBe('users.match[1]');
    expect(formatConfigPath([])).toBe('');
    expect(parseJsonPointer('/users/match/1', { users: { match: ['a', 'b'] } })).toEqual([
      'users',
      'match',
      1,
    ]);
    expect(parseJsonPointer('/a~1b/c~0d', {})).toEqual(['a/b', 'c~d']);
  });
});

describe('positions', () => {
  it('finds nodes through aliases and points an empty value at its key', () => {
    const text = 'base: &b\n  x: 1\nuse: *b\nempty:\n';
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter });
    const locator = createSourceLocator('f.yaml', lineCounter);
    expect(findNode(doc, ['use', 'x']).value?.range?.[0]).toBe(text.indexOf('1'));
    expect(positionOfValue(doc, locator, ['empty'])).toEqual({
      file: 'f.yaml',
      line: 4,
      column: 1,
    });
    expect(positionOfValue(doc, locator, ['base', 'missing'])).toEqual({
      file: 'f.yaml',
      line: 2,
      column: 3,
    });
  });
});

describe('formatDiagnostics', () => {
  const diagnostics: Diagnostic[] = [
    {
      severity: 'error',
      code: 'config.type',
      message: 'wrong type for `users.anchor`: expected string, got number',
      path: 'users.anchor',
      position: { file: 'c.yaml', line: 3, column: 11 },
    },
    {
      severity: 'warning',
      code: 'config.yaml-warning',
      message: 'something odd',
      path: '',
      position: { file: 'c.yaml', line: 1, column: 1 },
    },
  ];

  it('prints each diagnostic in file order with a count', () => {
    expect(formatDiagnostics(diagnostics)).toBe(
      [
        'c.yaml:1:1: warning: something odd',
        'c.yaml:3:11: wrong type for `users.anchor`: expected string, got number [users.anchor]',
        '1 error, 1 warning',
      ].join('\n'),
    );
  });

  it('adds the source line and a caret when given the text', () => {
    const text = 'version: 1\nusers:\n  anchor: 42\n';
    expect(formatDiagnostics(diagnostics.slice(0, 1), { sources: { 'c.yaml': text } })).toBe(
      [
        'c.yaml:3:11: wrong type for `users.anchor`: expected string, got number [users.anchor]',
        '  3 |   anchor: 42',
        '    |           ^',
        '1 error',
      ].join('\n'),
    );
  });
});
