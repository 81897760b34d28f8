/**
 * The simulator's TLS material: a private certificate authority and a leaf certificate for the
 * loopback names, both ECDSA P-256. Clients trust the CA per client (never process-wide), so the
 * simulator is reached over the same HTTPS code paths as Microsoft Graph.
 *
 * Both keys live only in memory: a new CA per start, so only its certificate is ever written
 * out. The CA also carries a critical name constraint permitting only `localhost`,
 * 127.0.0.0/8 and ::1, so a client that trusts it trusts nothing beyond loopback.
 */
import { randomBytes, webcrypto } from 'node:crypto';
// @peculiar/x509 loads tsyringe, which needs a Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import type { X509Certificate } from '@peculiar/x509';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  PemConverter,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
} from '@peculiar/x509';

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const NAME_CONSTRAINTS_OID = '2.5.29.30';
const DAY_MS = 24 * 60 * 60 * 1000;
// Node's WebCrypto, typed as the DOM `Crypto` @peculiar/x509 expects (this project has no DOM lib).
const cryptoProvider = webcrypto as unknown as NonNullable<
  Parameters<typeof X509CertificateGenerator.create>[1]
>;

export interface CertificateAuthority {
  readonly certPem: string;
  readonly certificate: X509Certificate;
  readonly privateKey: webcrypto.CryptoKey;
  readonly publicKey: webcrypto.CryptoKey;
}

export interface ServerCertificate {
  /** PEM for `https.createServer({ cert })`: the leaf followed by the CA. */
  readonly certPem: string;
  readonly keyPem: string;
}

export async function createCertificateAuthority(): Promise<CertificateAuthority> {
  const keys = await webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const now = Date.now();
  const certificate = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: 'CN=entrasync simulator local CA, O=entrasync',
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 30 * DAY_MS),
      signingAlgorithm: SIGNING,
      keys,
      extensions: [
        new BasicConstraintsExtension(true, 0, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        new Extension(NAME_CONSTRAINTS_OID, true, loopbackNameConstraints()),
        await SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    },
    cryptoProvider,
  );
  return {
    certPem: certificate.toString('pem'),
    certificate,
    privateKey: keys.privateKey,
    publicKey: keys.publicKey,
  };
}

/** A fresh leaf for `localhost`, 127.0.0.1 and ::1, valid for a week. */
export async function issueServerCertificate(ca: CertificateAuthority): Promise<ServerCertificate> {
  const keys = await webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const now = Date.now();
  const leaf = await X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: 'CN=localhost, O=entrasync simulator',
      issuer: ca.certificate.subject,
      notBefore: new Date(now - 60 * 60 * 1000),
      notAfter: new Date(now + 7 * DAY_MS),
      signingAlgorithm: SIGNING,
      publicKey: keys.publicKey,
      signingKey: ca.privateKey,
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth]),
        new SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
          { type: 'ip', value: '::1' },
        ]),
        await SubjectKeyIdentifierExtension.create(keys.publicKey),
        await AuthorityKeyIdentifierExtension.create(ca.publicKey),
      ],
    },
    cryptoProvider,
  );
  return {
    certPem: `${leaf.toString('pem')}\n${ca.certPem}\n`,
    keyPem: await privateKeyPem(keys.privateKey),
  };
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return PemConverter.encode(der, 'PRIVATE KEY');
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  // A positive INTEGER: clear the top bit.
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

/**
 * DER for NameConstraints { permittedSubtrees [0] { dNSName "localhost",
 * iPAddress 127.0.0.0/8, iPAddress ::1/128 } } (RFC 5280 §4.2.1.10). @peculiar/x509 has no
 * class for this extension, and the encoding is fixed, so it is written out by hand.
 */
function loopbackNameConstraints(): ArrayBuffer {
  const dns = Buffer.from('localhost', 'ascii');
  const v4 = Buffer.from([127, 0, 0, 0, 255, 0, 0, 0]);
  const v6 = Buffer.concat([Buffer.alloc(15), Buffer.from([1]), Buffer.alloc(16, 0xff)]);
  const subtree = (tag: number, value: Buffer): Buffer =>
    tlv(0x30, Buffer.concat([Buffer.from([tag]), derLength(value.length), value]));
  const subtrees = Buffer.concat([subtree(0x82, dns), subtree(0x87, v4), subtree(0x87, v6)]);
  const der = tlv(0x30, tlv(0xa0, subtrees));
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}

function tlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(value.length), value]);
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x100) return Buffer.from([0x81, length]);
  return Buffer.from([0x82, length >> 8, length & 0xff]);
}
