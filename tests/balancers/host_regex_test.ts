/**
 * lbsync's regex dialect for hosts: the cases that once stalled or split the balancers are
 * refused with a reason; patterns generated from the dialect's own grammar mean the same to
 * JavaScript and to `matchHostRegex`; and through real nginx and HAProxy, every generated
 * pattern lbsync accepts routes like `route` and answers crafted Hosts in under 5 ms.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { buildModel, type ContainerInfo, render, routeRequest, templates } from "../../mod.ts";
import {
  compileHostRegex,
  type HostRegex,
  HostRegexError,
  matchHostRegex,
} from "../../lib/core/util/host_regex.ts";
import { parseHosts } from "../../lib/core/util/grammar.ts";
import { LabelError } from "../../lib/core/errors.ts";
import { backend, freePort, rawRequest, startHaproxy, startNginx } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";
import { HOST_ALPHABET, regexSource } from "../support/label_arbitraries.ts";

Deno.test("host regex dialect: what once stalled or split the balancers is refused, with why", () => {
  const refused: [string, RegExp][] = [
    // PCRE2 or HAProxy refuse these escapes, or read them otherwise than JavaScript
    ["^x\\i$", /\\i is outside the dialect/],
    ["^x\\o$", /\\o is outside/],
    ["^x\\g$", /\\g is outside/],
    ["^x\\k$", /\\k is outside/],
    ["^x\\u$", /\\u is outside/],
    ["^x\\y$", /\\y is outside/],
    ["^[\\d-z]$", /\\d is outside/],
    ["^a[]b$", /an empty class/],
    ["^\\8$", /\\8 is outside/],
    ["^\\Aa$", /\\A is outside/],
    ["^a\\z", /\\z is outside/],
    ["^a\\\\b$", /\\\\ is outside/], // nginx's parser reads \\ as \
    // exponential or polynomial backtracking
    ["^(a|a)*$", /a group repeats with \*/],
    ["^(a|aa)*$", /a group repeats with \*/],
    ["^((a+))*$", /a group repeats with \*/],
    ["^(\\w|a)*$", /\\w is outside/],
    ["^(a+)+$", /a group repeats with \+/],
    ["^.*a.*b$", /two repeats overlap what follows them/],
    ["^a*a*$", /a repeat follows a repeat that overlaps/],
    ["^[a-z]+.*x$", /two repeats overlap|a repeat overlaps/],
    ["^a?a*$", /a repeat overlaps what comes before it/],
    ["^(a|a)(a|a)(a|a)(a|a)(a|a)$", /ambiguous: .* 32 paths/],
    // case: nginx compiles a pattern with an upper-case letter case-insensitively
    ["^Www\\.x$", /upper-case W/],
    // anchors: unanchored patterns, or a | that escapes them
    ["example\\.com", /must start with \^/],
    ["^a|b$", /\| outside a group/],
    ["^a$b$", /\$ inside the pattern/],
    ["^a*?b$", /a repeat of a repeat/],
    ["^(?:a)$", /\(\? groups are outside/],
    ["^a{2}$", /"\{" is outside the dialect/],
    ["^[A-Z]$", /upper-case A/],
    ["^[z-a]$", /range z-a/],
  ];
  for (const [source, why] of refused) {
    assert.throws(() => compileHostRegex(source), HostRegexError, source);
    assert.throws(() => compileHostRegex(source), why, source);
    assert.throws(() => parseHosts(`~${source}`), LabelError, source);
  }
  const accepted = [
    "^re[0-9]+\\.rx\\.test$",
    "^(www\\.)?example\\.com$",
    "^[^.]+\\.example\\.com$",
    "^.*\\.example\\.com$",
    "^(www|web|api)\\.example\\.(com|net)$",
    "^[a-z0-9-]+\\.example\\.com$",
    "^app[0-9]+-[a-z]+\\.test",
  ];
  for (const source of accepted) compileHostRegex(source);
});

Deno.test("matchHostRegex() answers as JavaScript does, in one pass", () => {
  const re = compileHostRegex("^.*\\.example\\.com$");
  assert.equal(matchHostRegex(re, "a.b.example.com"), true);
  assert.equal(matchHostRegex(re, "example.com"), false);
  const prefix = compileHostRegex("^(www\\.)?ex");
  assert.equal(matchHostRegex(prefix, "www.exa"), true, "without $ a prefix is enough");
  assert.equal(matchHostRegex(prefix, "wwex"), false);
  assert.equal(matchHostRegex(compileHostRegex("^a?$"), ""), true);
});

// ---- generated patterns -------------------------------------------------------------------

const ALPHABET = HOST_ALPHABET;
const patternSource = regexSource;

/** The patterns of the generated set that the dialect accepts, with their compiled form. */
function acceptedPatterns(seed: number, count: number): HostRegex[] {
  const out = new Map<string, HostRegex>();
  for (const source of fc.sample(patternSource, { seed, numRuns: count * 20 })) {
    try {
      out.set(source, compileHostRegex(source));
    } catch (error) {
      if (!(error instanceof HostRegexError)) throw error;
    }
    if (out.size === count) break;
  }
  return [...out.values()];
}

Deno.test("property: every generated pattern the dialect accepts means the same to JavaScript", () => {
  fc.assert(
    fc.property(
      patternSource,
      fc.array(fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 10 }), { maxLength: 30 }),
      (source, hosts) => {
        let re: HostRegex;
        try {
          re = compileHostRegex(source);
        } catch (error) {
          if (error instanceof HostRegexError) return; // outside the dialect: refused
          throw error;
        }
        const js = new RegExp(source);
        for (const host of [...hosts, ...matchingHosts(re, 5, hosts.length)]) {
          assert.equal(matchHostRegex(re, host), js.test(host), `${source} on ${host}`);
        }
      },
    ),
    { numRuns: 2000, seed: 20261202 },
  );
});

/** Hosts that `re` matches: random walks over its positions (`salt` varies them). */
function matchingHosts(re: HostRegex, count: number, salt: number): string[] {
  const hosts: string[] = [];
  let rand = (salt * 2654435761 + 1) >>> 0;
  const next = (n: number) => {
    rand = (rand * 1103515245 + 12345) >>> 0;
    return rand % n;
  };
  for (let k = 0; k < count * 4 && hosts.length < count; k++) {
    let host = "";
    let candidates = re.first;
    let at: number | undefined;
    while (candidates.length > 0 && host.length < 24) {
      if (at !== undefined && re.last.has(at) && next(3) === 0) break;
      const p = candidates[next(candidates.length)];
      const chars = ALPHABET.filter((c) => (re.sets[p] & (1n << BigInt(c.charCodeAt(0)))) !== 0n);
      if (chars.length === 0) break;
      host += chars[next(chars.length)];
      at = p;
      candidates = re.follow[p];
    }
    if (matchHostRegex(re, host)) hosts.push(host);
  }
  return hosts;
}

// ---- through real nginx and HAProxy -------------------------------------------------------

/** Hosts made to make a backtracking matcher work hardest, about 4,000 characters each. */
const CRAFTED = [
  "a".repeat(4000) + "b",
  "a".repeat(4000) + "-",
  "ab-".repeat(1300) + "c",
  "0".repeat(4000) + "x",
  "a.".repeat(2000) + "x",
  "c-".repeat(2000) + "0.",
];

Deno.test({
  name:
    "host regex dialect through real nginx and HAProxy: generated patterns route like route, crafted Hosts cost under 5 ms",
  ignore: missing("nginx") || missing("haproxy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const patterns = acceptedPatterns(20261202, 40);
    assert.equal(patterns.length, 40, "the generated set has 40 accepted patterns");
    const slow: string[] = [];
    const differences: string[] = [];
    let requests = 0;
    // ten patterns per balancer config: each request is matched against all of them
    for (let i = 0; i < patterns.length; i += 10) {
      const batch = patterns.slice(i, i + 10);
      const names = batch.map((_, j) => `rx${i + j}`);
      const backends = names.map((n) => backend(n));
      resetContainers();
      const containers: ContainerInfo[] = batch.map((re, j) =>
        container(`${names[j]}-c`, {
          "lbsync.service": names[j],
          "lbsync.port": String(backends[j].port),
          "lbsync.host": `~${re.source}`,
        }, { networks: [{ name: "app", ip: "127.0.0.1", ipv6: "" }] })
      );
      const listen = freePort();
      const build = (address: string) => buildModel(containers, { listen, listenAddress: address });
      const viaNginx = build("127.0.0.2");
      assert.deepEqual(viaNginx.skipped, [], "every accepted pattern is in");
      const nginx = await startNginx({ http: render(templates.nginx, viaNginx.model) });
      const haproxy = await startHaproxy(render(templates.haproxy, build("127.0.0.3").model));
      try {
        const hosts = [...CRAFTED, ...batch.flatMap((re, j) => matchingHosts(re, 3, i + j))]
          .filter((h) => h !== "" && !h.includes("..") && !h.startsWith("."));
        for (const host of hosts) {
          const expected = routeRequest(viaNginx.model, { listen, host, path: "/" });
          const want = expected.kind === "routed"
            ? expected.service.name
            : expected.kind === "not-found"
            ? String(expected.status)
            : expected.kind;
          for (const [balancer, address] of [["nginx", "127.0.0.2"], ["HAProxy", "127.0.0.3"]]) {
            // what a Host costs: its request's time over a plain one's, measured alongside
            // (the best of 5 each: a busy machine delays both alike)
            const timed = async (name: string) => {
              const started = performance.now();
              const r = await rawRequest(
                listen,
                `GET / HTTP/1.1\r\nHost: ${name}\r\nConnection: close\r\n\r\n`,
                5000,
                address,
              );
              requests++;
              return { ms: performance.now() - started, status: r.status, body: r.body };
            };
            let best = Infinity;
            let plain = Infinity;
            let answer = "";
            for (let attempt = 0; attempt < 5; attempt++) {
              plain = Math.min(plain, (await timed("plain.test")).ms);
              const r = await timed(host);
              best = Math.min(best, r.ms);
              answer = r.status === 200 ? r.body.trim() : String(r.status);
            }
            const shown = host.length > 40 ? `${host.slice(0, 20)}...(${host.length})` : host;
            if (answer !== want) differences.push(`${balancer} ${shown}: ${answer}, route ${want}`);
            if (host.length > 1000 && best - plain >= 5) {
              slow.push(
                `${balancer} ${shown}: ${best.toFixed(1)} ms, a plain Host ${plain.toFixed(1)} ms`,
              );
            }
          }
        }
      } finally {
        await nginx.stop();
        await haproxy.stop();
        await Promise.all(backends.map((b) => b.close()));
      }
    }
    assert.deepEqual(differences, []);
    assert.deepEqual(slow, [], "a crafted Host costs a balancer under 5 ms more than a plain one");
    console.log(`host regex dialect: ${patterns.length} patterns, ${requests} requests`);
  },
});
