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
  /** EDNS0 (RFC 6891), when the query has an OPT record: its UDP size and version. */
  edns?: { udpSize: number; version: number };
}

/** Response codes used here. */
export const RCODE = { ok: 0, formErr: 1, nxDomain: 3, notImp: 4, refused: 5 } as const;

/** A and AAAA record types. */
export const TYPE = { a: 1, aaaa: 28 } as const;

/** Answers over UDP fit a classic 512-byte message; over TCP, 65,535 bytes. */
const MAX_MESSAGE = 512;
/**
 * The largest UDP answer to a query with EDNS0, whatever size it offers: 1,232 bytes fit any
 * path's MTU unfragmented (DNS Flag Day 2020).
 */
export const MAX_EDNS_UDP = 1232;
/** The OPT record of an answer: root name, type 41, class = UDP size, TTL, no data. */
const OPT_SIZE = 11;
const TYPE_OPT = 41;
/** Extended response code BADVERS (16): 1 in the OPT record's upper byte, 0 in the header. */
const BADVERS_HIGH = 1;
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
  const edns = view.getUint16(10) === 1 ? parseOpt(view, at + 4) : undefined;
  if (edns === null) return { id, flags, rcode: RCODE.formErr };
  return {
    id,
    flags,
    name: labels.join(".").toLowerCase(),
    type: view.getUint16(at),
    klass: view.getUint16(at + 2),
    question: bytes.slice(HEADER, at + 4),
    ...(edns ? { edns } : {}),
  };
}

/**
 * The one additional record of a query, when it is an OPT record (root name, type 41, its
 * data within the message); `undefined` for another record, `null` for a malformed one.
 */
function parseOpt(view: DataView, at: number): DnsQuery["edns"] | null {
  if (at + OPT_SIZE > view.byteLength) return null;
  if (view.getUint8(at) !== 0 || view.getUint16(at + 1) !== TYPE_OPT) return undefined;
  if (at + OPT_SIZE + view.getUint16(at + 9) > view.byteLength) return null;
  return { udpSize: Math.max(MAX_MESSAGE, view.getUint16(at + 3)), version: view.getUint8(at + 6) };
}

/** The largest UDP answer `query` may get: 512 bytes, more when its EDNS0 offers more. */
export function udpLimit(query: DnsQuery): number {
  return query.edns ? Math.min(query.edns.udpSize, MAX_EDNS_UDP) : MAX_MESSAGE;
}

/**
 * The answer to `query`: the records of its type from `addresses` (`undefined`: no such
 * name), authoritative, with `ttl`. As many records as fit `maxSize` bytes (see
 * {@link udpLimit}), starting at `offset` (modulo their number), so that every address is
 * handed out in turn; when some do not fit, the TC bit tells the resolver to ask again over
 * TCP. A query with EDNS0 gets an OPT record back; one of an EDNS version other than 0 gets
 * BADVERS and no records (RFC 6891).
 */
export function answer(
  query: DnsQuery,
  addresses: { a: string[]; aaaa: string[] } | undefined,
  rcode: number = addresses ? RCODE.ok : RCODE.nxDomain,
  ttl = 1,
  offset = 0,
  maxSize = MAX_MESSAGE,
): Uint8Array {
  const badVersion = query.edns !== undefined && query.edns.version !== 0;
  const six = query.type === TYPE.aaaa;
  const records = query.klass !== 1 || !addresses || badVersion
    ? []
    : query.type === TYPE.a
    ? addresses.a
    : six
    ? addresses.aaaa
    : [];
  const opt = query.edns ? OPT_SIZE : 0;
  const size = 12 + (six ? 16 : 4); // the records of one type have one size
  const room = Math.floor((maxSize - HEADER - query.question.length - opt) / size);
  const count = Math.min(records.length, Math.max(0, room));
  const truncated = count < records.length ? 0x0200 : 0;
  const out = new Uint8Array(HEADER + query.question.length + count * size + opt);
  const view = new DataView(out.buffer);
  view.setUint16(0, query.id);
  const code = badVersion ? 0 : rcode;
  view.setUint16(2, 0x8000 | 0x0400 | truncated | (query.flags & 0x0100) | code);
  view.setUint16(4, 1);
  out.set(query.question, HEADER);
  let at = HEADER + query.question.length;
  for (let i = 0; i < count; i++) {
    // only the addresses that fit are encoded
    const ip = records[(offset + i) % records.length];
    const rdata = six ? ipv6Bytes(ip) : ipv4Bytes(ip);
    view.setUint16(at, 0xc00c); // the name of the question
    view.setUint16(at + 2, rdata.length === 4 ? TYPE.a : TYPE.aaaa);
    view.setUint16(at + 4, 1);
    view.setUint32(at + 6, ttl);
    view.setUint16(at + 10, rdata.length);
    out.set(rdata, at + 12);
    at += 12 + rdata.length;
  }
  view.setUint16(6, count);
  if (opt) {
    view.setUint16(10, 1);
    view.setUint16(at + 1, TYPE_OPT);
    view.setUint16(at + 3, MAX_EDNS_UDP);
    view.setUint8(at + 5, badVersion ? BADVERS_HIGH : 0);
  }
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
