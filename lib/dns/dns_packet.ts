/**
 * The DNS messages of lbsync's name server (RFC 1035): a query in, an authoritative answer
 * out, with A and AAAA records of one zone. Pure; the bytes are untrusted, every read is
 * bounded, and a malformed query gets FORMERR or nothing.
 *
 * @module
 */

/** A parsed question. */
export interface DnsQuery {
  /** Message id. */
  id: number;
  /** Header flags of the query. */
  flags: number;
  /** The name asked for, lowercased, without the final dot. */
  name: string;
  /** Query type: 1 A, 28 AAAA, ... */
  type: number;
  /** Query class: 1 IN. */
  klass: number;
  /** The question section as received, echoed in the answer. */
  question: Uint8Array;
}

/** Response codes used here. */
export const RCODE = { ok: 0, formErr: 1, nxDomain: 3, notImp: 4, refused: 5 } as const;

/** A and AAAA record types. */
export const TYPE = { a: 1, aaaa: 28 } as const;

/** Answers over UDP fit a classic 512-byte message; over TCP, 65,535 bytes. */
const MAX_MESSAGE = 512;
/** The largest message over TCP (its length is a 16-bit prefix). */
export const MAX_TCP_MESSAGE = 65_535;
const HEADER = 12;

/**
 * Parses a query. `undefined` for what deserves no answer (shorter than a header, or a
 * response); `{ id, rcode }` when it can only be refused or is malformed.
 */
export function parseQuery(
  bytes: Uint8Array,
): DnsQuery | { id: number; flags: number; rcode: number } | undefined {
  if (bytes.length < HEADER) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const id = view.getUint16(0);
  const flags = view.getUint16(2);
  if (flags & 0x8000) return undefined; // a response: never answer one
  if (((flags >> 11) & 0xf) !== 0) return { id, flags, rcode: RCODE.notImp };
  if (view.getUint16(4) !== 1) return { id, flags, rcode: RCODE.formErr };
  const labels: string[] = [];
  let at = HEADER;
  while (true) {
    if (at >= bytes.length) return { id, flags, rcode: RCODE.formErr };
    const length = bytes[at];
    if (length === 0) break;
    // compression pointers and the reserved label types have no place in a question
    if (length > 63 || at + 1 + length > bytes.length) return { id, flags, rcode: RCODE.formErr };
    labels.push(String.fromCharCode(...bytes.subarray(at + 1, at + 1 + length)));
    at += 1 + length;
    if (at - HEADER > 255) return { id, flags, rcode: RCODE.formErr };
  }
  at += 1;
  if (at + 4 > bytes.length) return { id, flags, rcode: RCODE.formErr };
  return {
    id,
    flags,
    name: labels.join(".").toLowerCase(),
    type: view.getUint16(at),
    klass: view.getUint16(at + 2),
    question: bytes.slice(HEADER, at + 4),
  };
}

/**
 * The answer to `query`: the records of its type from `addresses` (`undefined`: no such
 * name), authoritative, with `ttl`. As many records as fit `maxSize` bytes (512 over UDP),
 * starting at `offset` (modulo their number), so that every address is handed out in turn;
 * when some do not fit, the TC bit tells the resolver to ask again over TCP.
 */
export function answer(
  query: DnsQuery,
  addresses: { a: string[]; aaaa: string[] } | undefined,
  rcode: number = addresses ? RCODE.ok : RCODE.nxDomain,
  ttl = 1,
  offset = 0,
  maxSize = MAX_MESSAGE,
): Uint8Array {
  const records = query.klass !== 1 || !addresses
    ? []
    : query.type === TYPE.a
    ? addresses.a.map(ipv4Bytes)
    : query.type === TYPE.aaaa
    ? addresses.aaaa.map(ipv6Bytes)
    : [];
  const size = 12 + (records[0]?.length ?? 4); // the records of one type have one size
  const room = Math.floor((maxSize - HEADER - query.question.length) / size);
  const count = Math.min(records.length, Math.max(0, room));
  const truncated = count < records.length ? 0x0200 : 0;
  const out = new Uint8Array(HEADER + query.question.length + count * size);
  const view = new DataView(out.buffer);
  view.setUint16(0, query.id);
  view.setUint16(2, 0x8000 | 0x0400 | truncated | (query.flags & 0x0100) | rcode);
  view.setUint16(4, 1);
  out.set(query.question, HEADER);
  let at = HEADER + query.question.length;
  for (let i = 0; i < count; i++) {
    const rdata = records[(offset + i) % records.length];
    view.setUint16(at, 0xc00c); // the name of the question
    view.setUint16(at + 2, rdata.length === 4 ? TYPE.a : TYPE.aaaa);
    view.setUint16(at + 4, 1);
    view.setUint32(at + 6, ttl);
    view.setUint16(at + 10, rdata.length);
    out.set(rdata, at + 12);
    at += 12 + rdata.length;
  }
  view.setUint16(6, count);
  return out;
}

/** A header-only reply with `rcode` (for queries that cannot be parsed or are refused). */
export function errorReply(id: number, flags: number, rcode: number): Uint8Array {
  const out = new Uint8Array(HEADER);
  const view = new DataView(out.buffer);
  view.setUint16(0, id);
  view.setUint16(2, 0x8000 | (flags & 0x7900) | rcode);
  return out;
}

function ipv4Bytes(ip: string): Uint8Array {
  return Uint8Array.from(ip.split(".").map(Number));
}

/** The 16 bytes of an IPv6 address (with `::`, and an IPv4 tail). */
export function ipv6Bytes(ip: string): Uint8Array {
  const [head, tail = ""] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const groups = (text: string) => {
    if (text === "") return [];
    const parts = text.split(":");
    const last = parts[parts.length - 1];
    if (last.includes(".")) {
      const [a, b, c, d] = last.split(".").map(Number);
      parts.splice(parts.length - 1, 1, ((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
    }
    return parts.map((p) => parseInt(p, 16));
  };
  const left = groups(head);
  const right = ip.includes("::") ? groups(tail) : [];
  const all = [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = (g >> 8) & 0xff;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}
