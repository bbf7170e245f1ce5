/**
 * lbsync's DNS codec (lib/dns/dns_packet.ts) against the `dns-packet` package, on the work of
 * `--nginx-dns`: read a query, answer it with a service's 60 addresses within 512 bytes.
 * Prints how many A records each fits in one UDP answer, then times both.
 * Run: deno bench --allow-all bench/dns_codec_bench.ts
 */
// no @types/dns-packet: it brings @types/node, which changes node:assert's types for every file
import dnsPacket from "npm:dns-packet@5.6.1";
import { Buffer } from "node:buffer";
import { answer, parseQuery } from "../lib/serve/dns/dns_packet.ts";

const NAME = "web.lbsync.internal";
const ADDRESSES = Array.from({ length: 60 }, (_, i) => `10.0.1.${i + 1}`);
const QUERY = dnsPacket.encode({
  type: "query",
  id: 7,
  flags: dnsPacket.RECURSION_DESIRED,
  questions: [{ type: "A", name: NAME }],
});

function ours(bytes: Uint8Array): Uint8Array {
  const query = parseQuery(bytes);
  if (!query || "rcode" in query) throw new Error("not a query");
  return answer(query, { a: ADDRESSES, aaaa: [] });
}

/** dns-packet's answer: as many records as fit 512 bytes (it does not compress names). */
function theirs(bytes: Uint8Array): Uint8Array {
  const query = dnsPacket.decode(Buffer.from(bytes));
  const records = ADDRESSES.map((data) => ({ type: "A" as const, name: NAME, ttl: 1, data }));
  const reply = (count: number) =>
    dnsPacket.encode({
      type: "response",
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER |
        (count < records.length ? dnsPacket.TRUNCATED_RESPONSE : 0),
      questions: query.questions,
      answers: records.slice(0, count),
    });
  const one = reply(1).length - reply(0).length;
  return reply(Math.min(records.length, Math.floor((512 - reply(0).length) / one)));
}

const count = (reply: Uint8Array) => (reply[6] << 8) | reply[7];
console.log(
  `A records in a 512-byte answer: lbsync ${count(ours(QUERY))}, dns-packet ${
    count(theirs(QUERY))
  }`,
);

Deno.bench("dns answer, 60 addresses: lbsync's codec", { group: "dns", baseline: true }, () => {
  ours(QUERY);
});
Deno.bench("dns answer, 60 addresses: dns-packet", { group: "dns" }, () => {
  theirs(QUERY);
});
