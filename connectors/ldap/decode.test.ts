import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DecodeProblem,
  binaryAttributeNames,
  decodeValue,
  fileTimeToIso,
  generalizedTimeToIso,
  guidToBytes,
  guidToString,
  sidToString,
} from './decode.js';

describe('GUIDs', () => {
  it('reads AD byte order: Data1..3 little-endian, the rest as stored', () => {
    // Bytes as AD stores {01234567-89ab-cdef-0123-456789abcdef}.
    const bytes = Buffer.from('67452301ab89efcd0123456789abcdef', 'hex');
    expect(guidToString(bytes)).toBe('01234567-89ab-cdef-0123-456789abcdef');
    expect(guidToBytes('01234567-89AB-CDEF-0123-456789ABCDEF')).toEqual(bytes);
  });

  it("gives the immutable id Entra Connect writes (the engine's $immutableId agrees)", () => {
    expect(guidToBytes('00112233-4455-6677-8899-aabbccddeeff').toString('base64')).toBe(
      'MyIRAFVEd2aImaq7zN3u/w==',
    );
  });

  it('round-trips any 16 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (a) => {
        const bytes = Buffer.from(a);
        expect(guidToBytes(guidToString(bytes))).toEqual(bytes);
      }),
    );
  });

  it('refuses a value that is not 16 bytes', () => {
    expect(() => guidToString(Buffer.alloc(15))).toThrow(DecodeProblem);
  });

  it('gets the same bytes back from a GUID ldapts decoded as UTF-8 text', () => {
    // All bytes below 0x80: valid UTF-8, so ldapts hands it over as a string unless told.
    const bytes = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');
    expect(decodeValue('objectGUID', bytes.toString('utf8'))).toBe(guidToString(bytes));
  });
});

describe('SIDs', () => {
  it('formats S-1-5-21-a-b-c-rid', () => {
    const sid = Buffer.alloc(28);
    sid.writeUInt8(1, 0);
    sid.writeUInt8(5, 1);
    sid.writeUIntBE(5, 2, 6);
    [21, 2171341333, 3971333312, 3262782867, 1104].forEach((v, i) =>
      sid.writeUInt32LE(v, 8 + 4 * i),
    );
    expect(sidToString(sid)).toBe('S-1-5-21-2171341333-3971333312-3262782867-1104');
  });

  it('refuses a truncated SID', () => {
    expect(() => sidToString(Buffer.from('0105000000000005', 'hex'))).toThrow(DecodeProblem);
  });
});

describe('times', () => {
  it('reads FILETIME, with 0 and 0x7FFFFFFFFFFFFFFF as never', () => {
    expect(fileTimeToIso('135379296000000000')).toBe('2030-01-01T00:00:00.000Z');
    expect(fileTimeToIso('116444736000000000')).toBe('1970-01-01T00:00:00.000Z');
    expect(fileTimeToIso('0')).toBeNull();
    expect(fileTimeToIso('9223372036854775807')).toBeNull();
    expect(() => fileTimeToIso('soon')).toThrow(DecodeProblem);
  });

  it('reads GeneralizedTime in its forms', () => {
    expect(generalizedTimeToIso('20240102030405.0Z')).toBe('2024-01-02T03:04:05.000Z');
    expect(generalizedTimeToIso('20240102030405Z')).toBe('2024-01-02T03:04:05.000Z');
    expect(generalizedTimeToIso('202401020304Z')).toBe('2024-01-02T03:04:00.000Z');
    expect(generalizedTimeToIso('20240102030405.25+0200')).toBe('2024-01-02T01:04:05.250Z');
    expect(() => generalizedTimeToIso('2024-01-02')).toThrow(DecodeProblem);
  });
});

describe('decodeValue', () => {
  it('decodes by attribute name, whatever its case', () => {
    expect(decodeValue('USERACCOUNTCONTROL', '514')).toBe(514);
    expect(decodeValue('whenchanged', '20240102030405.0Z')).toBe('2024-01-02T03:04:05.000Z');
    expect(decodeValue('thumbnailPhoto', Buffer.from([0xff, 0xd8]))).toBe('/9g=');
    expect(decodeValue('cn', 'Jane')).toBe('Jane');
    expect(decodeValue('cn', Buffer.from([0xff]))).toBe('/w==');
  });

  it('lists binary attributes in every spelling ldapts may be handed', () => {
    const names = binaryAttributeNames(['objectGUID', 'cn']);
    expect(names).toEqual(expect.arrayContaining(['objectGUID', 'objectguid', 'objectSid']));
    expect(names).not.toContain('cn');
  });
});
