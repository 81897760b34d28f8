/**
 * A small LDAP server on 127.0.0.1 that misbehaves at paging, for what no real server can be made
 * to do: slapd and Samba always answer the paged-results control (RFC 2696) and never hand a
 * cookie back twice, so "ignores the control" (S14) and "repeats a cookie" (S15) need this fake.
 * Everything else in the LDAP tests runs against real slapd and Samba.
 *
 * No maintained LDAP server library was found on npm (ldapjs, and mocks built on it such as
 * ldap-server-mock, are decommissioned), so this speaks just enough LDAPv3 over plain TCP with
 * ldapts' own BER reader and writer and its control classes: simple bind (anything succeeds),
 * search (the root DSE, a base-scope read of any DN, and the paged people search), unbind.
 * Clients connect with `ldap://` and `allowInsecure: true, startTls: false`.
 */
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { BerReader, BerWriter, ControlParser, PagedResultsControl } from 'ldapts';
import type { Control } from 'ldapts';

const OP_BIND = 0x60;
const OP_BIND_RESPONSE = 0x61;
const OP_UNBIND = 0x42;
const OP_SEARCH = 0x63;
const OP_SEARCH_ENTRY = 0x64;
const OP_SEARCH_DONE = 0x65;
const CONTROLS = 0xa0;

export const PAGING_BASE = 'ou=people,dc=example,dc=org';

export interface PagingBehaviour {
  /** People in the directory: uid `p0001`…; each has cn, uid and mail. */
  readonly people: number;
  /**
   * `ignore-control`: answer the people search with at most `limit` entries, Success and no
   * paged-results control, whatever the client asked (S14).
   * `repeat-cookie`: page honestly, except that the response to page `at` (1-based) hands back
   * the cookie the client sent, `times` times in a row, before paging on (S15).
   * `honest`: page as RFC 2696 says.
   */
  readonly mode:
    | { readonly kind: 'honest' }
    | { readonly kind: 'ignore-control'; readonly limit: number }
    | { readonly kind: 'repeat-cookie'; readonly at: number; readonly times: number };
}

export interface PagingServer {
  readonly url: string;
  /** People searches received (each page is one). */
  readonly searches: () => number;
  close(): Promise<void>;
}

export async function startPagingServer(behaviour: PagingBehaviour): Promise<PagingServer> {
  let searches = 0;
  let repeatsLeft = behaviour.mode.kind === 'repeat-cookie' ? behaviour.mode.times : 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let pending = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      for (;;) {
        const reader = new BerReader(pending);
        if (reader.readSequence() === null || reader.remain < reader.length) return;
        const end = reader.offset + reader.length;
        const message = pending.subarray(0, end);
        pending = pending.subarray(end);
        answer(socket, new BerReader(message));
      }
    });
  });

  function answer(socket: Socket, reader: BerReader): void {
    reader.readSequence();
    const messageId = reader.readInt() ?? 0;
    const op = reader.readSequence();
    const opEnd = reader.offset + reader.length;
    if (op === OP_UNBIND) {
      socket.end();
      return;
    }
    if (op === OP_BIND) {
      socket.write(done(messageId, OP_BIND_RESPONSE, 0));
      return;
    }
    if (op !== OP_SEARCH) {
      socket.write(done(messageId, op === null ? 0x78 : op + 1, 53)); // unwillingToPerform
      return;
    }
    const base = reader.readString() ?? '';
    const scope = reader.readEnumeration();
    reader.offset = opEnd;
    const controls: Control[] = [];
    if (reader.peek() === CONTROLS) {
      reader.readSequence();
      const controlsEnd = reader.offset + reader.length;
      while (reader.offset < controlsEnd) {
        const control = ControlParser.parse(reader, []);
        if (control) controls.push(control);
      }
    }
    if (scope === 0) {
      const attributes: Record<string, string[]> =
        base === ''
          ? { namingContexts: ['dc=example,dc=org'], supportedLDAPVersion: ['3'] }
          : { objectClass: ['top'] };
      socket.write(Buffer.concat([entry(messageId, base, attributes), done(messageId)]));
      return;
    }
    searches++;
    const paged = controls.find((c): c is PagedResultsControl => c instanceof PagedResultsControl);
    socket.write(peoplePage(messageId, paged));
  }

  function peoplePage(messageId: number, paged: PagedResultsControl | undefined): Buffer {
    const mode = behaviour.mode;
    const all = behaviour.people;
    if (mode.kind === 'ignore-control' || paged === undefined) {
      const n = mode.kind === 'ignore-control' ? Math.min(mode.limit, all) : all;
      return Buffer.concat([...range(0, n).map((i) => person(messageId, i)), done(messageId)]);
    }
    const size = paged.value?.size || all;
    const sent = paged.value?.cookie ?? Buffer.alloc(0);
    const offset = sent.length === 0 ? 0 : Number(sent.toString());
    const to = Math.min(offset + size, all);
    let cookie = to < all ? Buffer.from(String(to)) : Buffer.alloc(0);
    const page = Math.floor(offset / size) + 1;
    if (mode.kind === 'repeat-cookie' && page === mode.at && repeatsLeft > 0) {
      repeatsLeft--;
      // The misbehaviour: the cookie of this very page again, so the next request re-reads it.
      cookie = Buffer.from(String(offset));
    }
    const control = new PagedResultsControl({ value: { size: 0, cookie } });
    return Buffer.concat([
      ...range(offset, to).map((i) => person(messageId, i)),
      done(messageId, OP_SEARCH_DONE, 0, [control]),
    ]);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ldap://127.0.0.1:${port}`,
    searches: () => searches,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function uidOf(i: number): string {
  return `p${String(i + 1).padStart(4, '0')}`;
}

function person(messageId: number, i: number): Buffer {
  const uid = uidOf(i);
  return entry(messageId, `uid=${uid},${PAGING_BASE}`, {
    objectClass: ['person', 'inetOrgPerson'],
    uid: [uid],
    cn: [`Person ${i + 1}`],
    mail: [`${uid}@example.org`],
  });
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
}

function envelope(
  messageId: number,
  op: number,
  body: (w: BerWriter) => void,
  controls: readonly Control[] = [],
): Buffer {
  const w = new BerWriter();
  w.startSequence();
  w.writeInt(messageId);
  w.startSequence(op);
  body(w);
  w.endSequence();
  if (controls.length > 0) {
    w.startSequence(CONTROLS);
    for (const control of controls) control.write(w);
    w.endSequence();
  }
  w.endSequence();
  return w.buffer;
}

function done(
  messageId: number,
  op = OP_SEARCH_DONE,
  status = 0,
  controls: readonly Control[] = [],
): Buffer {
  return envelope(
    messageId,
    op,
    (w) => {
      w.writeEnumeration(status);
      w.writeString('');
      w.writeString('');
    },
    controls,
  );
}

function entry(messageId: number, dn: string, attributes: Record<string, string[]>): Buffer {
  return envelope(messageId, OP_SEARCH_ENTRY, (w) => {
    w.writeString(dn);
    w.startSequence();
    for (const [type, values] of Object.entries(attributes)) {
      w.startSequence();
      w.writeString(type);
      w.startSequence(0x31);
      for (const value of values) w.writeString(value);
      w.endSequence();
      w.endSequence();
    }
    w.endSequence();
  });
}
