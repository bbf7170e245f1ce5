/**
 * `--store`: the URL, the validation of the store's values (a bad one skipped with its key
 * named, the rest kept), and the transaction an edit becomes (conditioned on the revisions of
 * the keys it touches). Pure; no etcd.
 */
import assert from "node:assert/strict";
import { servicesOfEntries, storeChange } from "./store_entries.ts";
import { parseStoreUrl } from "../../sources/store.ts";
import { prefixRangeEnd, toBase64 } from "../../sources/etcd_client.ts";
import { ConfigError } from "../errors.ts";

Deno.test("parseStoreUrl() takes every member and a prefix; TLS with etcds://", () => {
  assert.deepEqual(parseStoreUrl("etcd://10.0.0.1:2379,etcd-2.internal:2379/lbsync/prod"), {
    endpoints: ["10.0.0.1:2379", "etcd-2.internal:2379"],
    prefix: "/lbsync/prod/",
    tls: false,
  });
  assert.equal(parseStoreUrl("etcds://[::1]:2379/x/").tls, true);
  const refused: [string, RegExp][] = [
    ["http://10.0.0.1:2379/x", /expected etcd:\/\/HOST:PORT/],
    ["etcd://10.0.0.1:2379", /a PREFIX is required/],
    ["etcd://10.0.0.1:2379/", /a PREFIX is required/],
    ["etcd://10.0.0.1/x", /"10.0.0.1" is not HOST:PORT/],
    ["etcd://10.0.0.1:99999/x", /is not HOST:PORT/],
    ["etcd://10.0.0.1:2379/a b", /the PREFIX may hold/],
  ];
  for (const [url, message] of refused) {
    assert.throws(
      () => parseStoreUrl(url),
      (e) => e instanceof ConfigError && message.test(e.message),
      url,
    );
  }
});

Deno.test("servicesOfEntries() validates each value like the config file and skips a bad one by key", () => {
  const entry = (key: string, value: string) => ({ key, value, modRevision: 3 });
  const read = servicesOfEntries("/lb/", [
    entry("/lb/web", '{"host":"web.test","servers":[{"host":"10.0.0.9","port":80}]}'),
    entry("/lb/api", '{"name":"api","servers":[]}'),
    entry("/lb/port", '{"servers":[{"host":"10.0.0.9","port":99999}]}'),
    entry("/lb/json", "{not json"),
    entry("/lb/other", '{"name":"web","servers":[]}'),
    entry("/lb/a/b", '{"servers":[]}'),
    entry("/lb/inject", '{"servers":[{"host":"a;b","port":80}]}'),
    entry("/lb/big", JSON.stringify({ servers: [], path: `/${"x".repeat(70_000)}` })),
  ]);
  assert.deepEqual(read.services.map((s) => s.name), ["api", "web"]);
  assert.deepEqual(read.documents, [
    { name: "api", servers: [] },
    { host: "web.test", servers: [{ host: "10.0.0.9", port: 80 }], name: "web" },
  ]);
  assert.deepEqual(read.warnings, [
    "store key /lb/a/b skipped: not a service key (PREFIX/NAME)",
    "store key /lb/big skipped: the value is over 65536 bytes",
    'store key /lb/inject skipped: $.servers[0].host: "a;b" is not an IP address or a host name',
    "store key /lb/json skipped: not valid JSON (Expected property name or '}' in JSON at position 1 (line 1 column 2))",
    'store key /lb/other skipped: $.name: "web" is not the key\'s name other',
    "store key /lb/port skipped: $.servers[0].port: not an integer in 1..65535",
  ]);
});

Deno.test("storeChange() touches only the keys that change, each conditioned on its revision as read", () => {
  const entries = [
    { key: "/lb/web", value: "{}", modRevision: 7 },
    { key: "/lb/api", value: "{}", modRevision: 9 },
  ];
  const web = { name: "web", servers: [] };
  const api = { name: "api", servers: [] };
  const web2 = { name: "web", servers: [{ host: "10.0.0.2", port: 80 }] };
  const news = { name: "new", servers: [] };
  assert.deepEqual(storeChange("/lb/", entries, [web, api], [web2, news]), {
    compares: [
      { key: "/lb/api", modRevision: 9 },
      { key: "/lb/new", modRevision: 0 },
      { key: "/lb/web", modRevision: 7 },
    ],
    ops: [
      { key: "/lb/api" },
      { key: "/lb/new", value: JSON.stringify(news) },
      { key: "/lb/web", value: JSON.stringify(web2) },
    ],
  });
  assert.deepEqual(storeChange("/lb/", entries, [web], [web]), { compares: [], ops: [] });
});

Deno.test("prefixRangeEnd() ends the range just after the prefix", () => {
  assert.equal(prefixRangeEnd("/lb/"), toBase64("/lb0"));
});
