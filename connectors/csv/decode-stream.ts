/**
 * Bytes in the configured encoding -> UTF-8 bytes for csv-parse, failing on anything that is not
 * text. csv-parse matches delimiters, quotes and line breaks byte by byte and counts lines on any
 * 0x0A/0x0D byte, which is only sound when those bytes never occur inside other characters. That
 * holds for UTF-8 but not for UTF-16LE (`č` is 0D 01), so every encoding is transcoded to UTF-8
 * here first and the parser only ever sees UTF-8.
 *
 * - A UTF-8 (EF BB BF) or UTF-16LE (FF FE) byte-order mark decides the encoding whatever the
 *   config says, and is removed; a UTF-16BE mark (FE FF) is refused.
 * - Invalid bytes are an error, never U+FFFD: a silently mangled name would be written to Entra.
 * - A NUL character is an error: it never occurs in an HR export, and a UTF-16 file read without
 *   its byte-order mark is full of them.
 * - `latin1` is decoded as windows-1252, the WHATWG meaning of the label: bytes 0x80-0x9F give
 *   `€ ’ “ ”` and friends (what Excel "ANSI" exports contain) rather than C1 control codes. Node's
 *   own TextDecoder does not do this consistently across versions, hence the table below.
 *
 * Errors carry the line and column (in the decoded text) where decoding stopped.
 */
import { Transform } from 'node:stream';
import type { CsvSourceOptions } from '../../config/sources/csv-options.js';

export type CsvEncoding = NonNullable<CsvSourceOptions['encoding']>;

/** The input is not text in its encoding. `line`/`column` are 1-based, in decoded characters. */
export class DecodeError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

interface Codec {
  /** Name for messages. */
  readonly label: string;
  /** Length of the prefix of `bytes` that ends on a character boundary. */
  completeLength(bytes: Buffer): number;
  /** Decodes complete characters; throws on invalid input. */
  decode(bytes: Buffer): string;
  /**
   * Where invalid input starts: the text of the whole characters before it and their length in
   * bytes; `truncated` when the rest is only the start of a character (the input ended early).
   */
  validPrefix(bytes: Buffer): {
    readonly text: string;
    readonly length: number;
    readonly truncated: boolean;
  };
}

const BOM_UTF8 = Buffer.from([0xef, 0xbb, 0xbf]);
const BOM_UTF16LE = Buffer.from([0xff, 0xfe]);
const BOM_UTF16BE = Buffer.from([0xfe, 0xff]);

export function createDecodeStream(configured: CsvEncoding): Transform {
  // Bytes held back until the first three are known (byte-order mark), then undefined.
  let head: Buffer | undefined = Buffer.alloc(0);
  let codec: Codec = codecFor(configured);
  // Trailing bytes of an incomplete character, decoded with the next chunk.
  let carry: Buffer = Buffer.alloc(0);
  // Bytes of the file already decoded (the byte-order mark included), for messages.
  let consumed = 0;
  const position = createPositionTracker();

  function fail(message: string): never {
    throw new DecodeError(message, position.line, position.column);
  }

  function start(bytes: Buffer): Buffer {
    if (bytes.subarray(0, 3).equals(BOM_UTF8)) {
      codec = codecFor('utf8');
      consumed = 3;
      return bytes.subarray(3);
    }
    if (bytes.subarray(0, 2).equals(BOM_UTF16LE)) {
      codec = codecFor('utf16le');
      consumed = 2;
      return bytes.subarray(2);
    }
    if (bytes.subarray(0, 2).equals(BOM_UTF16BE)) {
      fail(
        'the file starts with a UTF-16BE byte-order mark, which is not supported; save it as UTF-8',
      );
    }
    return bytes;
  }

  function convert(bytes: Buffer, final: boolean): Buffer {
    const data = carry.length === 0 ? bytes : Buffer.concat([carry, bytes]);
    const cut = final ? data.length : codec.completeLength(data);
    const piece = data.subarray(0, cut);
    carry = Buffer.from(data.subarray(cut));
    let text: string;
    try {
      text = codec.decode(piece);
    } catch {
      const valid = codec.validPrefix(piece);
      position.advance(valid.text);
      const at = consumed + valid.length;
      if (final && valid.truncated) {
        fail(`the file ends in the middle of a ${codec.label} character (byte offset ${at})`);
      }
      const shown = [...piece.subarray(valid.length, valid.length + 4)]
        .map((b) => b.toString(16).toUpperCase().padStart(2, '0'))
        .join(' ');
      fail(
        `bytes that are not valid ${codec.label} at byte offset ${at} (${shown})` +
          (codec.label === 'UTF-8'
            ? '; if the file was saved as Latin-1 / Windows "ANSI", set encoding: latin1'
            : ''),
      );
    }
    const nul = text.indexOf('\0');
    if (nul !== -1) {
      position.advance(text.slice(0, nul));
      fail(
        'NUL character in the file; a UTF-16 file without a byte-order mark looks like this ' +
          '(set encoding: utf16le), otherwise the file is not text',
      );
    }
    position.advance(text);
    consumed += cut;
    return Buffer.from(text, 'utf8');
  }

  function run(bytes: Buffer, final: boolean): Buffer | undefined {
    let input = bytes;
    if (head !== undefined) {
      head = Buffer.concat([head, bytes]);
      if (head.length < 3 && !final) return undefined;
      input = start(head);
      head = undefined;
    }
    return convert(input, final);
  }

  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        const out = run(chunk, false);
        callback(null, out !== undefined && out.length > 0 ? out : undefined);
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback) {
      try {
        const out = run(Buffer.alloc(0), true);
        callback(null, out !== undefined && out.length > 0 ? out : undefined);
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}

function codecFor(encoding: CsvEncoding): Codec {
  switch (encoding) {
    case 'utf8':
      return whatwgCodec('UTF-8', 'utf-8', utf8CompleteLength, (t) => Buffer.byteLength(t, 'utf8'));
    case 'utf16le':
      return whatwgCodec('UTF-16LE', 'utf-16le', utf16CompleteLength, (t) => t.length * 2);
    case 'latin1':
      return windows1252Codec();
  }
}

function whatwgCodec(
  label: string,
  whatwg: string,
  completeLength: (bytes: Buffer) => number,
  byteLength: (text: string) => number,
): Codec {
  // ignoreBOM: true keeps a U+FEFF inside the data; the leading mark is handled by the stream.
  const strict = new TextDecoder(whatwg, { fatal: true, ignoreBOM: true });
  const prefixOk = (bytes: Buffer, length: number): boolean => {
    try {
      new TextDecoder(whatwg, { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, length), {
        stream: true,
      });
      return true;
    } catch {
      return false;
    }
  };
  return {
    label,
    completeLength,
    decode: (bytes) => strict.decode(bytes),
    validPrefix(bytes) {
      // Validity of a prefix is monotonic (a prefix of a valid prefix is valid), so bisect.
      let lo = 0;
      let hi = bytes.length;
      const truncated = prefixOk(bytes, hi);
      if (truncated) lo = hi;
      while (hi - lo > 1) {
        const mid = (lo + hi) >>> 1;
        if (prefixOk(bytes, mid)) lo = mid;
        else hi = mid;
      }
      const text = new TextDecoder(whatwg, { fatal: true, ignoreBOM: true }).decode(
        bytes.subarray(0, lo),
        { stream: true },
      );
      return { text, length: byteLength(text), truncated };
    },
  };
}

/** Cuts before a trailing UTF-8 sequence that is not complete yet. */
function utf8CompleteLength(bytes: Buffer): number {
  const end = bytes.length;
  for (let i = end - 1; i >= 0 && i >= end - 4; i--) {
    const b = bytes[i] ?? 0;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    if (b < 0x80) return end;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return end - i < need ? i : end;
  }
  return end; // only continuation bytes: invalid, let the decoder say so
}

/** Cuts to whole code units, and before a trailing high surrogate waiting for its pair. */
function utf16CompleteLength(bytes: Buffer): number {
  let cut = bytes.length - (bytes.length % 2);
  if (cut >= 2) {
    const unit = bytes.readUInt16LE(cut - 2);
    if (unit >= 0xd800 && unit <= 0xdbff) cut -= 2;
  }
  return cut;
}

// windows-1252 for 0x80-0x9F (WHATWG index); the five unassigned bytes map to themselves.
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

function windows1252Codec(): Codec {
  const decode = (bytes: Buffer): string =>
    bytes
      .toString('latin1')
      .replace(/[\u0080-\u009f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80] ?? c);
  return {
    label: 'windows-1252',
    completeLength: (bytes) => bytes.length,
    decode,
    validPrefix: (bytes) => ({ text: decode(bytes), length: bytes.length, truncated: false }),
  };
}

/** Line and column of the next character to be decoded (CRLF, LF and lone CR each one break). */
function createPositionTracker(): { line: number; column: number; advance(text: string): void } {
  let afterCR = false;
  const tracker = {
    line: 1,
    column: 1,
    advance(text: string): void {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 10) {
          if (!afterCR) tracker.line++;
          tracker.column = 1;
          afterCR = false;
        } else if (c === 13) {
          tracker.line++;
          tracker.column = 1;
          afterCR = true;
        } else {
          tracker.column++;
          afterCR = false;
        }
      }
    },
  };
  return tracker;
}
