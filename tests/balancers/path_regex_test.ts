/**
 * Regex paths (`lbsync.path=~REGEX`, nginx-proxy's `VIRTUAL_PATH=~ ^/(web3|alt)/`): one
 * dialect that JavaScript, nginx and HAProxy read alike and match in linear time; regex routes
 * tried before prefixes, in order, as nginx tries its regex locations; a regex that could
 * backtrack refused with the container and the reason. Real nginx, real HAProxy and
 * `routeRequest` agree on every request of the set.
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, explainRows, render, templates } from "../../mod.ts";
import { formatExplainTable } from "../../lib/core/explain.ts";
import { HostRegexError } from "../../lib/core/util/host_regex.ts";
import { compilePathRegex, matchPathRegex } from "../../lib/core/util/path_regex.ts";
import { backend, freePort, rawRequest, startHaproxy, startNginx } from "../support/balancers.ts";
import { container, resetContainers, seededRandom } from "../support/fixtures.ts";
import { answerClass, expectedAnswer, requestText } from "../support/routing_corpus.ts";
import { missing } from "../support/tools.ts";

const ACCEPTED = [
  "^/(web3|alt)/",
  "^/api/v[0-9]+/",
  "^/.*\\.css$",
  "^/[A-Z][a-z]*$",
  "^/a/b-c_d~e!f,g=h:i@j/",
  "^/u/.$",
  "^/x[^/]+/y$",
  "^/(de|fr)?/docs$",
];

Deno.test("path regex: the dialect takes paths' characters and matches as JavaScript does", () => {
  const rnd = seededRandom(20261202);
  const alphabet = [..."/aAbBzZ059.-_~!,=:@xyw3lt+*"];
  const samples = [
    "/web3/",
    "/alt/x",
    "/Alt/x",
    "/api/v12/",
    "/api/v/",
    "/a.css",
    "/acss",
    "/Abc",
    "/ABc",
    "/a/b-c_d~e!f,g=h:i@j/",
    "/u/é",
    "/docs",
    "/de/docs",
    ...Array.from(
      { length: 400 },
      () =>
        "/" +
        Array.from({ length: Math.floor(rnd() * 12) }, () =>
          alphabet[Math.floor(rnd() * alphabet.length)]).join(""),
    ),
  ];
  let matched = 0;
  for (const source of ACCEPTED) {
    const re = compilePathRegex(source);
    const js = new RegExp(source);
    for (const path of samples.filter((p) => /^[ -~]*$/.test(p))) {
      assert.equal(matchPathRegex(re, path), js.test(path), `${source} on ${path}`);
      if (js.test(path)) matched++;
    }
  }
  assert.ok(matched >= 10, `${matched} matches`);
  // bytes, as the balancers match: é is two of them, so `.` does not take it whole
  assert.equal(matchPathRegex(compilePathRegex("^/u/.$"), "/u/\xc3\xa9"), false);
  assert.equal(matchPathRegex(compilePathRegex("^/u/..$"), "/u/\xc3\xa9"), true);
  // PCRE2's $ before a final line feed
  assert.equal(matchPathRegex(compilePathRegex("^/nl$"), "/nl\n"), true);
  // linear: a long path against a pattern a backtracking engine would try at every position
  const long = "/" + "a".repeat(200_000) + "b";
  const started = performance.now();
  assert.equal(matchPathRegex(compilePathRegex("^/.*a\\.css$"), long), false);
  assert.ok(performance.now() - started < 2000);

  const refused: [string, RegExp][] = [
    ["^/(a+)+$", /^a group repeats with \+ \(only \? may follow a group\) at position 7$/],
    ["^/(a|ab)*$", /a group repeats with \*/],
    ["^/.*a.*$", /a repeat follows a repeat that overlaps|two repeats overlap/],
    ["/api", /^must start with \^ \(a path regex is anchored\)$/],
    ["^/a{2}", /"\{" is outside the dialect/],
    ["^/a\\d", /\\d is outside the dialect \(the escapes are \\\., \\-, \\\*, \\\+/],
    ["^/a b", /" " is outside the dialect/],
    ["^/(?i)a", /\(\? groups are outside the dialect/],
    ["^/a|^/b", /\| outside a group/],
  ];
  for (const [source, reason] of refused) {
    assert.throws(
      () => compilePathRegex(source),
      (e) => e instanceof HostRegexError && reason.test(e.message),
      source,
    );
  }
});

Deno.test("path regex: a backtracking VIRTUAL_PATH or label is refused, naming the container and why", () => {
  resetContainers();
  const result = buildModel([
    container("evil", {}, { env: { VIRTUAL_HOST: "a.test", VIRTUAL_PATH: "~ ^/(a+)+$" } }),
    container("nocase", { "lbsync.service": "nocase", "lbsync.path": "~*^/x" }),
    container("rxdest", {
      "lbsync.service": "rxdest",
      "lbsync.path": "~^/x/",
      "lbsync.dest": "/",
    }),
    container("good", {}, { env: { VIRTUAL_HOST: "a.test", VIRTUAL_PATH: "~ ^/(web3|alt)/" } }),
  ], { compat: "nginx-proxy" });
  assert.deepEqual(result.skipped.map((s) => `${s.name}: ${s.reason}`), [
    'evil: group vh0: label lbsync.vh0.path="~ ^/(a+)+$": not a path regex: a group repeats with + (only ? may follow a group) at position 7 of the regex',
    'nocase: label lbsync.path="~*^/x": not a path regex: ~* (without case) is outside the dialect; write ~ with classes such as [Aa]',
    "rxdest: lbsync.dest needs a path prefix, not the regex ~^/x/",
  ]);
  const table = formatExplainTable(explainRows(result), result.warnings);
  assert.match(table, /^evil +out .*not a path regex: a group repeats with \+/m);
  assert.deepEqual(result.model.services.map((s) => s.path), ["~ ^/(web3|alt)/"]);
});

Deno.test({
  name: "path regex: nginx, HAProxy and routeRequest route regex and prefix paths alike",
  ignore: missing("nginx", "haproxy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const names = ["web1", "web2", "web3", "root", "api", "apiv", "css", "ap", "one", "nl"];
    const backends = new Map(names.map((n) => [n, backend(n)]));
    const net = { networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }] };
    const ports = (n: string) => [{ port: backends.get(n)!.port, protocol: "tcp", published: [] }];
    const compat = (n: string, path: string, dest?: string): ContainerInfo =>
      container(n, {}, {
        ...net,
        ports: ports(n),
        env: { VIRTUAL_HOST: "nginx-proxy.test", VIRTUAL_PATH: path, VIRTUAL_DEST: dest ?? "" },
      });
    const labelled = (n: string, path: string): ContainerInfo =>
      container(n, {
        "lbsync.service": n,
        "lbsync.host": "p.test",
        "lbsync.path": path,
        "lbsync.port": String(backends.get(n)!.port),
      }, net);
    const containers = [
      // nginx-proxy's test_custom-conf.yml
      compat("web1", "/web1/", "/"),
      compat("web2", "/web2/", "/"),
      compat("web3", "~ ^/(web3|alt)/"),
      // a regex before a longer prefix, regexes in order, the slash redirect first
      labelled("root", "/"),
      labelled("api", "/api/"),
      labelled("apiv", "~^/api/v[0-9]+/"),
      labelled("css", "~^/.*\\.css$"),
      labelled("ap", "~^/ap[a-z]$"),
      labelled("one", "~^/u/.$"),
      labelled("nl", "~^/nl/[a-z]+$"),
    ];
    const listen = freePort();
    const build = (address: string) =>
      buildModel(containers, { compat: "nginx-proxy", listen, listenAddress: address });
    const viaNginx = build("127.0.0.2");
    assert.deepEqual(viaNginx.skipped, []);
    const model = viaNginx.model;
    const serviceOf = (n: string) =>
      model.services.find((s) => s.servers[0].port === backends.get(n)!.port)!.name;
    const requests: [string, string, string][] = [
      ["nginx-proxy.test", "/web1/port", "web1"],
      ["nginx-proxy.test", "/web2/port", "web2"],
      ["nginx-proxy.test", "/web3/port", "web3"],
      ["nginx-proxy.test", "/alt/port", "web3"],
      ["nginx-proxy.test", "/%61lt/port", "web3"],
      ["nginx-proxy.test", "/alt%2Fport", "web3"],
      ["nginx-proxy.test", "/x/../alt/", "web3"],
      ["nginx-proxy.test", "/ALT/port", "404"],
      ["nginx-proxy.test", "/alt", "404"],
      ["nginx-proxy.test", "/foo", "404"],
      ["p.test", "/api/v1/x", "apiv"],
      ["p.test", "/api/v/x", "api"],
      ["p.test", "/api/x", "api"],
      ["p.test", "/api/v1/a.css", "css"],
      ["p.test", "/x.css?y=1", "css"],
      ["p.test", "/x.CSS", "root"],
      ["p.test", "/api", "301 /api/"],
      ["p.test", "/apx", "ap"],
      ["p.test", "/u/a", "one"],
      ["p.test", "/u/%C3%A9", "root"],
      ["p.test", "/u/%41", "one"],
      ["p.test", "/nl/abc", "nl"],
      ["p.test", "/nl/abc%0A", "nl"],
      ["p.test", "/nl/abc%0A%0A", "root"],
      ["p.test", "/", "root"],
    ];
    const want = requests.map(([, , answer]) => /^[a-z]/.test(answer) ? serviceOf(answer) : answer);
    const corpus = requests.map(([host, path]) => ({ listener: 0, host, path }));
    assert.deepEqual(corpus.map((r) => expectedAnswer(model, listen, r)), want, "routeRequest");

    const nginx = await startNginx({ http: render(templates.nginx, model) });
    const haproxy = await startHaproxy(render(templates.haproxy, build("127.0.0.3").model));
    try {
      for (const [address, kind] of [["127.0.0.2", "nginx"], ["127.0.0.3", "HAProxy"]]) {
        const got: string[] = [];
        for (const r of corpus) {
          const answer = await rawRequest(listen, requestText(r), 5000, address);
          got.push(answerClass(answer.status, answer.body, answer.headers.get("location")));
        }
        // a service answers with its backend's name: map back to the service
        const services = got.map((g) => backends.has(g) ? serviceOf(g) : g);
        assert.deepEqual(services, want, kind);
      }
    } finally {
      await nginx.stop();
      await haproxy.stop();
      await Promise.all([...backends.values()].map((b) => b.close()));
    }
  },
});
