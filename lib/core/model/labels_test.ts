import assert from "node:assert/strict";
import { LabelError } from "../errors.ts";
import { parseHealthPath, parseHosts, parseIp, parseName, parsePath } from "../util/grammar.ts";
import { readLabels } from "./labels.ts";
import { INJECTIONS } from "../../../tests/support/hostile.ts";

Deno.test("readLabels() parses every label of SPEC.md", () => {
  const { labels, unknown } = readLabels({
    "lbsync.enable": "true",
    "lbsync.service": "web",
    "lbsync.port": "8080",
    "lbsync.host": "WWW.Example.com, *.example.com",
    "lbsync.path": "/api/v1",
    "lbsync.weight": "256",
    "lbsync.backup": "false",
    "lbsync.mode": "tcp",
    "lbsync.listen": "5432",
    "lbsync.network": "app_default",
    "lbsync.health": "/healthz?full=1",
    "lbsync.rollover": "true",
    "lbsync.hots": "typo",
    "other.port": "x",
  }, "lbsync");
  assert.deepEqual(labels, {
    enable: true,
    service: "web",
    port: 8080,
    hosts: ["*.example.com", "www.example.com"],
    path: "/api/v1",
    weight: 256,
    backup: false,
    mode: "tcp",
    listen: 5432,
    network: "app_default",
    health: "/healthz?full=1",
    rollover: true,
  });
  assert.deepEqual(unknown, ["lbsync.hots"]);
});

Deno.test("readLabels() names the label and the value in its error", () => {
  assert.throws(() => readLabels({ "lbsync.port": "80}" }, "lbsync"), {
    name: "LabelError",
    message: 'label lbsync.port="80}": not an integer in 1..65535',
  });
  assert.throws(() => readLabels({ "x.weight": "0" }, "x"), {
    message: 'label x.weight="0": not an integer in 1..256',
  });
  assert.throws(() => readLabels({ "lbsync.mode": "udp" }, "lbsync"), {
    message: 'label lbsync.mode="udp": not one of http, tcp',
  });
  assert.throws(() => readLabels({ "lbsync.backup": "yes" }, "lbsync"), {
    message: 'label lbsync.backup="yes": not true or false',
  });
});

Deno.test("readLabels() shows a control character escaped, on one line", () => {
  try {
    readLabels({ "lbsync.host": "a.com\nserver x;" }, "lbsync");
    assert.fail("no error");
  } catch (error) {
    assert.ok(error instanceof LabelError);
    assert.equal(error.message.includes("\n"), false);
    assert.match(error.message, /a\.com\\nserver x;/);
  }
});

Deno.test("parseHosts() accepts RFC 1123 names and one leading wildcard", () => {
  assert.deepEqual(parseHosts("a.example.com,b-c.example.com,localhost"), [
    "a.example.com",
    "b-c.example.com",
    "localhost",
  ]);
  assert.deepEqual(parseHosts("*.example.com"), ["*.example.com"]);
  assert.deepEqual(parseHosts("x.com,X.COM"), ["x.com"]);
  assert.deepEqual(parseHosts("1.2.3.4"), ["1.2.3.4"]);
  for (
    const bad of [
      "*",
      "*.",
      "a.*.com",
      "**.a.com",
      "-a.com",
      "a-.com",
      "a..com",
      ".a.com",
      "a.com.",
      "a_b.com",
      "a".repeat(64) + ".com",
      "a,",
      ",a",
      "a.com:80",
      "a/b",
    ]
  ) {
    assert.throws(() => parseHosts(bad), LabelError, bad);
  }
});

Deno.test("parseHosts(), parsePath(), parseName() refuse every injection attempt", () => {
  for (const value of INJECTIONS) {
    assert.throws(() => parseHosts(`x${value}.com`), LabelError, JSON.stringify(value));
    assert.throws(() => parsePath(`/x${value}`), LabelError, JSON.stringify(value));
    assert.throws(() => parseHealthPath(`/x${value}`), LabelError, JSON.stringify(value));
    assert.throws(() => parseName(`x${value}`), LabelError, JSON.stringify(value));
  }
});

Deno.test("parsePath() takes safe prefixes and %XX escapes only", () => {
  for (const ok of ["/", "/api", "/api/v1/", "/a-b_c.d~e", "/a:b@c", "/a+b,c=d!*", "/a..b"]) {
    assert.equal(parsePath(ok), ok);
  }
  // requests are matched decoded and normalized: so are the prefixes
  assert.equal(parsePath("/%61pi/%7Ev1"), "/api/~v1");
  assert.equal(parsePath("/a//b///"), "/a/b/");
  const bad = ["api", "", "/%2", "/%zz", "/a?b", "/a&b", "/a(b)", "/" + "a".repeat(1024)];
  for (const value of [...bad, "/%20x", "/%3Bx", "/%25", "/a/./b", "/a/..", "/%2E%2E/x"]) {
    assert.throws(() => parsePath(value), LabelError, value);
  }
  assert.equal(parseHealthPath("/health?x=1&y=2"), "/health?x=1&y=2");
});

Deno.test("parseName() takes Docker-style names and reserves lbsync_", () => {
  for (const ok of ["web", "web-1", "app_web.1", "A9"]) assert.equal(parseName(ok), ok);
  for (const bad of ["", "-web", ".web", "_web", "we b", "lbsync_x", "a".repeat(129)]) {
    assert.throws(() => parseName(bad), LabelError, bad);
  }
});

Deno.test("parseIp() takes IPv4 and IPv6 only", () => {
  assert.equal(parseIp("10.0.0.1"), "10.0.0.1");
  assert.equal(parseIp("fd00::1"), "fd00::1");
  assert.equal(parseIp("::FFFF:10.0.0.1"), "::ffff:10.0.0.1");
  for (
    const bad of ["", "256.0.0.1", "10.0.0", "10.0.0.1;", "example.com", "::1]", ":::", "1:2:3"]
  ) {
    assert.throws(() => parseIp(bad), LabelError, bad);
  }
});

Deno.test("parseHosts() takes ~REGEX hosts, safe ones only", () => {
  assert.deepEqual(parseHosts("a.test,~^re[0-9]+\\.rx\\.test$"), [
    "a.test",
    "~^re[0-9]+\\.rx\\.test$",
  ]);
  const bad = [
    "~a;b", // directive injection in nginx
    "~a b", // a second server_name
    "~^a{2}$", // braces end nginx's block
    "~a'b", // breaks HAProxy's quoting
    '~a"b',
    "~a#b",
    "~[a", // does not compile
    "~(a+)+$", // catastrophic backtracking
    "~",
    "~" + "a".repeat(256),
  ];
  for (const value of bad) assert.throws(() => parseHosts(value), LabelError, value);
});
