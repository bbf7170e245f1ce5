/**
 * `--nginx-dns ADDR`: a small authoritative DNS server (UDP) for the zone of lbsync's
 * service names, answering nginx's resolver with the current servers of each service.
 *
 * @module
 */
import dgram from "node:dgram";
import { ConfigError, errorMessage, LbsyncError } from "../../core/errors.ts";
import { isLoopback } from "../../core/util/grammar.ts";
import { parseListenAddress } from "../../core/util/listen_address.ts";
import { DNS_ZONE, type DnsAddresses } from "../../core/model/dns_names.ts";
import { answer, errorReply, MAX_TCP_MESSAGE, parseQuery, RCODE, udpLimit } from "./dns_packet.ts";

const RCODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries({
    NOERROR: RCODE.ok,
    FORMERR: RCODE.formErr,
    NXDOMAIN: RCODE.nxDomain,
    NOTIMP: RCODE.notImp,
    REFUSED: RCODE.refused,
  })
    .map(([name, code]) => [code, name]),
);

/** A running DNS server: replace its records, close it. */
export interface DnsServer {
  /** The port it answers on (UDP and TCP). */
  port: number;
  /** The records to answer from now on. */
  update(records: Map<string, DnsAddresses>): void;
  /** Stops answering. */
  close(): Promise<void>;
}

/** Settings of {@link serveDns}. */
export interface DnsSettings {
  /** Bind off loopback too: a DNS server others reach can be abused. */
  public?: boolean;
  /** UDP queries a second one source may ask (a burst of twice that), default 1000. */
  ratePerSecond?: number;
}

/**
 * Answers DNS queries on `address` (`PORT` binds 127.0.0.1, or `HOST:PORT`) until closed,
 * over UDP and TCP: names of {@link DNS_ZONE} from the records (NXDOMAIN for others of the
 * zone), REFUSED for names outside it. Each answer starts one address further, so every
 * server is handed out. A UDP answer that does not fit 512 bytes (up to 1,232 when the query
 * offers more through EDNS0) is truncated with TC set,
 * and the resolver asks again over TCP for all of it. UDP queries beyond the rate of a source
 * are dropped, so the server cannot be used to flood a third party. `answered` is told the
 * response code and transport of each reply (`DROPPED` for a query over the rate).
 *
 * @throws {ConfigError} for a bad address, or one off loopback without `public`; rejects
 *   when the port cannot be bound
 */
export async function serveDns(
  address: string,
  answered: (rcode: string, transport: "udp" | "tcp") => void = () => {},
  settings: DnsSettings = {},
): Promise<DnsServer> {
  const { hostname, port } = parseListenAddress(address, "DNS address");
  if (!isLoopback(hostname) && !settings.public) {
    throw new ConfigError(
      `Refusing to serve DNS on ${address}: off loopback a DNS server can be used to flood ` +
        "others; set `public` to mean it",
    );
  }
  const socket = dgram.createSocket(hostname.includes(":") ? "udp6" : "udp4");
  let records = new Map<string, DnsAddresses>();
  let turn = 0;
  const reply = (message: Uint8Array, transport: "udp" | "tcp"): Uint8Array | undefined => {
    const query = parseQuery(message);
    if (query === undefined) return undefined;
    const maxSize = "rcode" in query || transport === "tcp" ? MAX_TCP_MESSAGE : udpLimit(query);
    const out = "rcode" in query
      ? errorReply(query.id, query.flags, query.rcode)
      : query.name === DNS_ZONE || query.name.endsWith(`.${DNS_ZONE}`)
      ? answer(query, records.get(query.name), undefined, 1, turn++, maxSize)
      : answer(query, undefined, RCODE.refused);
    answered(RCODE_NAMES[out[3] & 0xf] ?? String(out[3] & 0xf), transport);
    return out;
  };
  const limiter = new RateLimiter(settings.ratePerSecond ?? 1000);
  socket.on("message", (message: Uint8Array, peer: { address: string; port: number }) => {
    if (!limiter.allow(peer.address, performance.now())) {
      answered("DROPPED", "udp");
      return;
    }
    const out = reply(message, "udp");
    if (out) socket.send(out, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error) =>
      reject(new LbsyncError(`Cannot answer DNS on ${hostname}:${port}: ${errorMessage(error)}`));
    socket.once("error", failed);
    socket.bind(port, hostname, () => {
      socket.off("error", failed);
      resolve();
    });
  });
  socket.on("error", () => {}); // a send to a peer that went away: nothing to do
  const bound = socket.address().port;
  const tcp = Deno.listen({ hostname, port: bound });
  const serving = serveTcp(tcp, (message) => reply(message, "tcp"));
  return {
    port: bound,
    update(next) {
      records = next;
    },
    async close() {
      tcp.close();
      await serving;
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

/** DNS over TCP: each message has a 2-byte length in front; a connection may ask several. */
async function serveTcp(
  listener: Deno.Listener,
  reply: (message: Uint8Array) => Uint8Array | undefined,
): Promise<void> {
  const open = new Set<Promise<void>>();
  try {
    for await (const conn of listener) {
      const done = answerConnection(conn, reply).finally(() => open.delete(done));
      open.add(done);
    }
  } catch {
    // the listener was closed
  }
  await Promise.all(open);
}

async function answerConnection(
  conn: Deno.Conn,
  reply: (message: Uint8Array) => Uint8Array | undefined,
): Promise<void> {
  const timer = setTimeout(() => conn.close(), 10_000); // an idle or slow client goes
  let buffer: Uint8Array = new Uint8Array(0);
  try {
    for await (const chunk of conn.readable) {
      buffer = join(buffer, chunk);
      while (buffer.length >= 2) {
        const length = (buffer[0] << 8) | buffer[1];
        if (buffer.length < 2 + length) break;
        const out = reply(buffer.subarray(2, 2 + length));
        buffer = buffer.slice(2 + length);
        if (!out) continue;
        await conn.write(join(Uint8Array.of(out.length >> 8, out.length & 0xff), out));
      }
      if (buffer.length > 2 + 65_535) break;
    }
  } catch {
    // the client went away
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * A token bucket per source address: `rate` a second, bursts of twice that. At most 10,000
 * sources are remembered (the stalest are forgotten first). Pure apart from the clock given.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #rate: number;

  /** A limiter of `rate` queries a second per source. */
  constructor(rate: number) {
    this.#rate = rate;
  }

  /** True when `source` may be answered at `nowMs`. */
  allow(source: string, nowMs: number): boolean {
    const burst = 2 * this.#rate;
    const bucket = this.#buckets.get(source) ?? { tokens: burst, at: nowMs };
    bucket.tokens = Math.min(burst, bucket.tokens + (nowMs - bucket.at) * this.#rate / 1000);
    bucket.at = nowMs;
    this.#buckets.delete(source);
    this.#buckets.set(source, bucket); // most recent last
    if (this.#buckets.size > 10_000) this.#buckets.delete(this.#buckets.keys().next().value!);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
