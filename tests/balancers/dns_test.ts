/**
 * `--nginx-dns`: the DNS messages (untrusted bytes in), which services nginx finds by name,
 * and the server answering real UDP queries.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import {
  answer,
  errorReply,
  ipv6Bytes,
  MAX_EDNS_UDP,
  parseQuery,
  RCODE,
  udpLimit,
} from "../../lib/serve/dns/dns_packet.ts";
import { dnsFields, dnsRecords } from "../../lib/core/model/dns_names.ts";
import { RateLimiter, serveDns } from "../../lib/serve/dns/dns_server.ts";
import { NGINX_DNS_CACHE_MS, retireDelay } from "../../lib/watch/retirements.ts";
import { buildModel, render, templates } from "../../mod.ts";
import { freePort, httpGet, nginxCheck, startNginx } from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";
import { query, udpAsk } from "../support/dns_client.ts";

/** Header fields and answer addresses of a reply. */
function decode(
  reply: Uint8Array,
): { id: number; rcode: number; aa: boolean; addresses: string[] } {
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  const count = view.getUint16(6);
  let at = 12;
  while (at < reply.length && reply[at] !== 0) at += reply[at] + 1;
  at += 5;
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    const length = view.getUint16(at + 10);
    const data = [...reply.subarray(at + 12, at + 12 + length)];
    addresses.push(
      length === 4 ? data.join(".") : data.map((b) => b.toString(16).padStart(2, "0")).join(""),
    );
    at += 12 + length;
  }
  const flags = view.getUint16(2);
  return { id: view.getUint16(0), rcode: flags & 0xf, aa: (flags & 0x0400) !== 0, addresses };
}

Deno.test("dns messages: answers, rotation within 512 bytes, and malformed queries", () => {
  const q = parseQuery(query("Web.lbsync.internal"));
  assert.ok(q && !("rcode" in q));
  assert.equal(q.name, "web.lbsync.internal");
  const reply = decode(answer(q, { a: ["10.0.0.2", "10.0.0.3"], aaaa: [] }, undefined, 1, 1));
  assert.deepEqual(reply, { id: 0x1234, rcode: 0, aa: true, addresses: ["10.0.0.3", "10.0.0.2"] });
  assert.equal(decode(answer(q, undefined)).rcode, RCODE.nxDomain);

  const many = Array.from({ length: 40 }, (_, i) => `10.0.1.${i}`);
  const big = answer(q, { a: many, aaaa: [] });
  assert.ok(big.length <= 512);
  assert.equal(decode(big).addresses.length, 29); // (512 - 12 - 25) / 16 records fit

  const six = parseQuery(query("web.lbsync.internal", 28));
  assert.ok(six && !("rcode" in six));
  assert.deepEqual(decode(answer(six, { a: ["10.0.0.2"], aaaa: ["fd00::1:2"] })).addresses, [
    "fd000000000000000000000000010002",
  ]);
  assert.deepEqual([...ipv6Bytes("::ffff:10.0.0.1")].slice(10), [255, 255, 10, 0, 0, 1]);

  assert.equal(parseQuery(new Uint8Array(5)), undefined);
  const response = query("a.lbsync.internal");
  response[2] |= 0x80;
  assert.equal(parseQuery(response), undefined);
  const pointer = query("a.lbsync.internal");
  pointer[12] = 0xc0;
  assert.deepEqual(parseQuery(pointer), { id: 0x1234, flags: 0x0100, rcode: RCODE.formErr });
  const cut = query("a.lbsync.internal").slice(0, 20);
  assert.deepEqual(parseQuery(cut), { id: 0x1234, flags: 0x0100, rcode: RCODE.formErr });
  const two = query("a.lbsync.internal");
  two[5] = 2;
  assert.deepEqual(parseQuery(two), { id: 0x1234, flags: 0x0100, rcode: RCODE.formErr });
  const update = query("a.lbsync.internal");
  update[2] = 0x28; // opcode 5
  assert.equal((parseQuery(update) as { rcode: number }).rcode, RCODE.notImp);
  assert.equal(decode(errorReply(7, 0x0100, RCODE.formErr)).rcode, RCODE.formErr);
  // random bytes never throw
  let seed = 3;
  for (let i = 0; i < 2000; i++) {
    const bytes = Uint8Array.from(
      { length: i % 80 },
      () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff,
    );
    const parsed = parseQuery(bytes);
    if (parsed && !("rcode" in parsed)) answer(parsed, { a: ["10.0.0.1"], aaaa: ["::1"] });
  }
});

Deno.test("dns names: which services nginx finds by name, and their addresses", () => {
  resetContainers();
  const labels = (service: string, more: Record<string, string> = {}) => ({
    "lbsync.service": service,
    ...more,
  });
  const result = buildModel([
    container("w1", labels("web", { "lbsync.host": "web.test" })),
    container("w2", labels("web")),
    container("w3", labels("web", { "lbsync.backup": "true" })),
    container("m1", labels("mixed", { "lbsync.port": "8080", "lbsync.path": "/m" })),
    container("m2", labels("mixed", { "lbsync.port": "9090", "lbsync.path": "/m" }), {
      ports: [{ port: 9090, protocol: "tcp", published: [] }],
    }),
    container("t1", labels("db", { "lbsync.mode": "tcp", "lbsync.listen": "5432" })),
    container("b1", labels("only_backup", { "lbsync.backup": "true", "lbsync.path": "/b" })),
  ], { nginxDns: "127.0.0.1:5353" });
  const fields = Object.fromEntries(result.model.services.map((s) => [s.name, dnsFields(s)]));
  assert.deepEqual(fields, {
    db: { dnsName: "db.lbsync.internal", dnsPort: 8080 },
    mixed: { dnsName: "", dnsPort: 0 },
    only_backup: { dnsName: "only_backup.lbsync.internal", dnsPort: 8080 },
    web: { dnsName: "web.lbsync.internal", dnsPort: 8080 },
  });
  assert.deepEqual([...dnsRecords(result.model)], [
    ["db.lbsync.internal", { a: ["10.0.0.8"], aaaa: [] }],
    ["only_backup.lbsync.internal", { a: ["10.0.0.9"], aaaa: [] }],
    ["web.lbsync.internal", { a: ["10.0.0.3", "10.0.0.4"], aaaa: [] }],
  ]);
  // without --nginx-dns nothing changes
  assert.ok(
    buildModel([container("x", labels("web"))]).model.services.every((s) => s.dnsPort === 0),
  );
});

Deno.test({
  name: "dns names: the nginx templates find servers by name and pass real nginx -t",
  ignore: missing("nginx"),
  async fn() {
    resetContainers();
    const model = buildModel([
      container("w1", { "lbsync.service": "web", "lbsync.host": "web.test" }),
      container("a1", { "lbsync.service": "api", "lbsync.path": "/api" }),
      container("d1", { "lbsync.service": "db", "lbsync.mode": "tcp", "lbsync.listen": "5432" }),
    ], { nginxDns: "127.0.0.1:5353" }).model;
    const text = render(templates.nginx, model);
    assert.match(text, /resolver 127\.0\.0\.1:5353 valid=1s;/);
    assert.match(
      text,
      /set \$lbsync_backend web\.lbsync\.internal;\n\s+proxy_pass http:\/\/\$lbsync_backend:8080;/,
    );
    assert.doesNotMatch(text, /upstream web/);
    const stream = render(templates["nginx-stream"], model);
    assert.match(
      stream,
      /set \$lbsync_backend db\.lbsync\.internal;\n\s+proxy_pass \$lbsync_backend:8080;/,
    );
    assert.doesNotMatch(stream, /upstream db/);
    const check = await nginxCheck({ http: text, stream });
    assert.ok(check.ok, check.output);
  },
});

Deno.test({
  name: "dns server: answers real UDP queries, NXDOMAIN in the zone, REFUSED outside",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await serveDns(`127.0.0.1:${freePort()}`);
    const client = dgram.createSocket("udp4");
    const ask = (message: Uint8Array) =>
      new Promise<Uint8Array>((resolve) => {
        client.once("message", (reply: Uint8Array) => resolve(reply));
        client.send(message, server.port, "127.0.0.1");
      });
    try {
      server.update(new Map([["web.lbsync.internal", { a: ["10.0.0.2"], aaaa: [] }]]));
      assert.deepEqual(decode(await ask(query("web.lbsync.internal"))).addresses, ["10.0.0.2"]);
      assert.equal(decode(await ask(query("nope.lbsync.internal"))).rcode, RCODE.nxDomain);
      assert.equal(decode(await ask(query("example.com"))).rcode, RCODE.refused);
      server.update(new Map());
      assert.equal(decode(await ask(query("web.lbsync.internal"))).rcode, RCODE.nxDomain);
    } finally {
      client.close();
      await server.close();
    }
  },
});

Deno.test("dns names: a rollover stops a container only after nginx's answers naming it expired", () => {
  assert.equal(retireDelay({}), undefined);
  assert.equal(retireDelay({ retireAfterMs: 2_000 }), 2_000);
  assert.equal(
    retireDelay({ retireAfterMs: 2_000, nginxDns: "127.0.0.1:5353" }),
    NGINX_DNS_CACHE_MS,
  );
  assert.equal(retireDelay({ retireAfterMs: 30_000, nginxDns: "127.0.0.1:5353" }), 30_000);
});

/** `query` with an EDNS0 OPT record offering `udpSize` bytes, of EDNS `version`. */
function withEdns(bytes: Uint8Array, udpSize: number, version = 0): Uint8Array {
  const out = Uint8Array.from([
    ...bytes,
    0,
    0,
    41,
    udpSize >> 8,
    udpSize & 0xff,
    0,
    version,
    0,
    0,
    0,
    0,
  ]);
  out[11] = 1; // ARCOUNT
  return out;
}

Deno.test("hardening 5: EDNS0 raises the UDP limit up to 1,232 bytes and is answered in kind", () => {
  const a = Array.from({ length: 100 }, (_, i) => `10.0.1.${i}`);
  const ask = (bytes: Uint8Array) => {
    const q = parseQuery(bytes);
    assert.ok(q && !("rcode" in q));
    const out = answer(q, { a, aaaa: [] }, undefined, 1, 0, udpLimit(q));
    return { q, out, count: (out[6] << 8) | out[7], arcount: (out[10] << 8) | out[11] };
  };
  const plain = ask(query("web.lbsync.internal"));
  assert.equal(plain.q.edns, undefined);
  assert.equal(plain.count, 29);
  assert.equal(plain.arcount, 0);

  const big = ask(withEdns(query("web.lbsync.internal"), 4096));
  assert.deepEqual(big.q.edns, { udpSize: 4096, version: 0 });
  assert.ok(big.out.length <= MAX_EDNS_UDP, `${big.out.length} bytes`);
  assert.equal(big.count, Math.floor((1232 - 12 - 25 - 11) / 16)); // 74 of 100
  assert.equal(big.out[2] & 0x02, 0x02, "TC: not all fit");
  assert.equal(big.arcount, 1, "an OPT record comes back");
  const opt = big.out.subarray(big.out.length - 11);
  assert.deepEqual([...opt.subarray(0, 5)], [0, 0, 41, 1232 >> 8, 1232 & 0xff]);

  const small = ask(withEdns(query("web.lbsync.internal"), 100)); // below 512 counts as 512
  assert.equal(small.count, Math.floor((512 - 12 - 25 - 11) / 16));

  const v1 = ask(withEdns(query("web.lbsync.internal"), 4096, 1));
  assert.equal(v1.count, 0);
  assert.equal(v1.out[3] & 0xf, 0);
  assert.equal(v1.out[v1.out.length - 6], 1, "BADVERS: extended code 1 in the OPT record");

  const cut = withEdns(query("web.lbsync.internal"), 4096).slice(0, -3);
  assert.equal((parseQuery(cut) as { rcode: number }).rcode, RCODE.formErr);
});

Deno.test("dns: 60 servers: the UDP answer fits 512 bytes with TC set, TCP gives all 60", async () => {
  const dns = await serveDns(`127.0.0.1:${freePort()}`);
  const a = Array.from({ length: 60 }, (_, i) => `10.0.1.${i + 1}`);
  dns.update(new Map([["big.lbsync.internal", { a, aaaa: [] }]]));
  const query = dnsQueryBytes("big.lbsync.internal");
  try {
    const udp = await udpAsk(dns.port, query);
    assert.ok(udp.length <= 512, `${udp.length} bytes`);
    assert.equal(udp[2] & 0x02, 0x02, "TC set");
    const udpCount = (udp[6] << 8) | udp[7];
    assert.ok(udpCount > 20 && udpCount < 60, `${udpCount} records over UDP`);
    const tcp = await tcpAsk(dns.port, query);
    assert.equal(tcp[2] & 0x02, 0, "no TC over TCP");
    assert.equal((tcp[6] << 8) | tcp[7], 60);
  } finally {
    await dns.close();
  }
});

Deno.test({
  name: "dns: real nginx asks again over TCP after a truncated answer and reaches past it",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const port = freePort();
    const servers = Array.from({ length: 60 }, (_, i) =>
      Deno.serve(
        { hostname: `127.0.1.${i + 1}`, port, onListen() {} },
        () => new Response(`s${i + 1}`),
      ));
    const seen: string[] = [];
    const dns = await serveDns(`127.0.0.1:${freePort()}`, (code, t) => seen.push(`${code}/${t}`));
    dns.update(
      new Map([["web.lbsync.internal", {
        a: Array.from({ length: 60 }, (_, i) => `127.0.1.${i + 1}`),
        aaaa: [],
      }]]),
    );
    const listen = freePort();
    const nginx = await startNginx({
      http: `server { listen 127.0.0.1:${listen}; resolver 127.0.0.1:${dns.port} valid=10s ipv6=off;
  location / { set $b web.lbsync.internal; proxy_pass http://$b:${port}; } }\n`,
    });
    try {
      const answers = new Set<string>();
      for (let i = 0; i < 240 && answers.size <= 40; i++) {
        answers.add((await httpGet(listen, "/", "x")).body);
      }
      assert.ok(seen.includes("NOERROR/tcp"), seen.join(" "));
      // one resolution (valid=10s) and more servers than a UDP answer holds
      assert.ok(answers.size > 40, `${answers.size} servers answered`);
    } finally {
      await nginx.stop();
      await dns.close();
      await Promise.all(servers.map((s) => s.shutdown()));
    }
  },
});

Deno.test("dns: a source asking too fast is dropped; the rate refills", () => {
  const limiter = new RateLimiter(10);
  const allowed = Array.from({ length: 30 }, () => limiter.allow("1.2.3.4", 0)).filter(Boolean);
  assert.equal(allowed.length, 20, "a burst of twice the rate");
  assert.equal(limiter.allow("5.6.7.8", 0), true, "other sources are not affected");
  assert.equal(limiter.allow("1.2.3.4", 50), false);
  assert.equal(limiter.allow("1.2.3.4", 150), true, "100 ms later: one more");
});

Deno.test("dns: an address off loopback needs --nginx-dns-public", async () => {
  await assert.rejects(
    serveDns("0.0.0.0:5353"),
    /Refusing to serve DNS on 0\.0\.0\.0:5353: off loopback/,
  );
  const r = await lbsync([
    "watch",
    "--from-file",
    "-",
    "--nginx-dns",
    "0.0.0.0:5353",
    "-t",
    "nginx",
  ], "[]");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /add --nginx-dns-public to mean it/);
});

function dnsQueryBytes(name: string): Uint8Array {
  return query(name, 1, 7);
}

/** One question over TCP (2-byte length prefix), and its answer. */
async function tcpAsk(port: number, message: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(Uint8Array.from([message.length >> 8, message.length & 0xff, ...message]));
    let buffer = new Uint8Array(0);
    for await (const chunk of conn.readable) {
      const next = new Uint8Array(buffer.length + chunk.length);
      next.set(buffer);
      next.set(chunk, buffer.length);
      buffer = next;
      if (buffer.length >= 2 && buffer.length >= 2 + ((buffer[0] << 8) | buffer[1])) break;
    }
    return buffer.subarray(2);
  } finally {
    try {
      conn.close();
    } catch { /* closed by the loop */ }
  }
}
