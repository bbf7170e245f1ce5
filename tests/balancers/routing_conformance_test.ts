/**
 * Routing conformance: one model with dozens of services rendered into real nginx and real
 * HAProxy, every backend a small HTTP server answering its service's name, and a corpus of
 * generated requests (tests/golden/routing/corpus.tsv, regenerated with UPDATE_GOLDEN=1):
 * nginx, HAProxy and `routeRequest` must give every request the same answer.
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, render, templates } from "../../mod.ts";
import { backend, freePort, rawRequest, startHaproxy, startNginx } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import {
  answerClass,
  expectedAnswer,
  generateCorpus,
  requestText,
} from "../support/routing_corpus.ts";
import { missing, updatingGoldens } from "../support/tools.ts";

const GOLDEN = new URL("../golden/routing/corpus.tsv", import.meta.url);
const SEED = 20261127;

interface Ports {
  http: number;
  alt: number;
  tcp1: number;
  tcp2: number;
}

/** The services, oldest first; `port(name)` is the backend answering `name`. */
function fixture(ports: Ports, port: (name: string) => number): ContainerInfo[] {
  resetContainers();
  const svc = (name: string, labels: Record<string, string>, service = name) =>
    container(`${name}-c`, {
      "lbsync.service": service,
      "lbsync.port": String(port(service)),
      ...labels,
    }, { networks: [{ name: "app", ip: "127.0.0.1", ipv6: "" }] });
  return [
    svc("root", {}),
    svc("api", { "lbsync.path": "/api" }),
    svc("apiv2", { "lbsync.path": "/api/v2" }),
    svc("static", { "lbsync.path": "/static/" }),
    svc("admin", { "lbsync.path": "/%61dmin" }),
    svc("plus", { "lbsync.path": "/a+b" }),
    svc("colon", { "lbsync.path": "/x:y@z/" }),
    svc("shop", { "lbsync.host": "a.example.com" }),
    svc("shopapi", { "lbsync.host": "a.example.com", "lbsync.path": "/api/" }),
    svc("shopapiexact", { "lbsync.host": "a.example.com", "lbsync.path": "/api" }),
    svc("bonly", { "lbsync.host": "b.example.com", "lbsync.path": "/shop" }),
    svc("wild", { "lbsync.host": "*.example.com" }),
    svc("wildb", { "lbsync.host": "*.b.example.com", "lbsync.path": "/docs/" }),
    svc("deep", { "lbsync.host": "*.deep.a.example.com" }),
    svc("multi", { "lbsync.host": "x.test,y.test" }),
    svc("upper", { "lbsync.host": "UPPER.Example.org" }),
    svc("regex", { "lbsync.host": "~^re[0-9]+\\.(wild\\.)?rx\\.test$" }),
    svc("regex2", { "lbsync.host": "~^(www|api)\\.rx\\.test$", "lbsync.path": "/v/" }),
    // a wildcard comes before a regex that matches the same name (nginx's order)
    svc("rxwild", { "lbsync.host": "*.wild.rx.test", "lbsync.path": "/w" }),
    svc("nested", { "lbsync.host": "n.test", "lbsync.path": "/a/" }),
    svc("nested2", { "lbsync.host": "n.test", "lbsync.path": "/a/b/" }),
    svc("nested3", { "lbsync.host": "n.test", "lbsync.path": "/a/b/c" }),
    container("empty-c", { "lbsync.service": "empty", "lbsync.host": "empty.test" }, {
      state: "exited",
    }),
    svc("backup", { "lbsync.host": "backup.test" }),
    svc("backup-2", { "lbsync.host": "backup.test", "lbsync.backup": "true" }, "backup"),
    // newcomers that claim held routes or names: they lose, traffic stays
    svc("newcomer", { "lbsync.host": "a.example.com" }),
    svc("newroot", {}),
    svc("Shop", { "lbsync.host": "case.test" }),
    svc("alt", { "lbsync.listen": String(ports.alt) }),
    svc("alt-api", { "lbsync.listen": String(ports.alt), "lbsync.path": "/api" }),
    svc("db", { "lbsync.mode": "tcp", "lbsync.listen": String(ports.tcp1) }),
    svc("cache", { "lbsync.mode": "tcp", "lbsync.listen": String(ports.tcp2) }),
    svc("dbclash", { "lbsync.mode": "tcp", "lbsync.listen": String(ports.tcp1) }),
  ];
}

async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>) {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...await Promise.all(items.slice(i, i + size).map(fn)));
  }
  return out;
}

Deno.test({
  name: "routing conformance: nginx, HAProxy and routeRequest route every request alike",
  ignore: missing("nginx") || missing("haproxy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const names = [
      ...new Set(
        fixture({ http: 1, alt: 2, tcp1: 3, tcp2: 4 }, () => 1).map((c) =>
          c.labels["lbsync.service"]
        ),
      ),
    ];
    const backends = new Map(names.map((n) => [n, backend(n)]));
    const port = (name: string) => backends.get(name)!.port;
    // the default listener sorts first, so the corpus (by listener index) is the same every run
    const [http, alt] = [freePort(), freePort()].sort((a, b) => a - b);
    const ports = { http, alt, tcp1: freePort(), tcp2: freePort() };
    const build = (address: string) =>
      buildModel(fixture(ports, port), { listen: ports.http, listenAddress: address });
    const viaNginx = build("127.0.0.2");
    const viaHaproxy = build("127.0.0.3");
    const { model } = viaNginx;

    // the corpus is a function of the model's routes and the seed: kept as a golden file
    const corpus = generateCorpus(model, SEED, [
      "re1.rx.test",
      "RE22.RX.TEST.",
      "re.rx.test",
      "x.re3.rx.test",
      "www.rx.test",
      "api.rx.test:8080",
      "wwwx.rx.test",
      "re4.wild.rx.test",
    ]);
    const listenOf = (i: number) => model.httpListeners[i].port;
    const rows = corpus.map((r) =>
      [
        r.listener,
        JSON.stringify(r.host),
        JSON.stringify(r.path),
        expectedAnswer(model, listenOf(r.listener), r),
      ]
        .join("\t")
    );
    const text = rows.join("\n") + "\n";
    if (updatingGoldens()) {
      await Deno.mkdir(new URL(".", GOLDEN), { recursive: true });
      await Deno.writeTextFile(GOLDEN, text);
    }
    assert.equal(text, await Deno.readTextFile(GOLDEN), "corpus or routeRequest changed");
    assert.ok(corpus.length >= 300, `corpus has ${corpus.length} requests`);

    const nginx = await startNginx({
      http: render(templates.nginx, viaNginx.model),
      stream: render(templates["nginx-stream"], viaNginx.model),
    });
    const haproxy = await startHaproxy(render(templates.haproxy, viaHaproxy.model));
    try {
      const ask = async (address: string, listen: number, request: string) => {
        const r = await rawRequest(listen, request, 5000, address);
        return answerClass(r.status, r.body, r.headers.get("location"));
      };
      const differences: string[] = [];
      const results = await inBatches(corpus, 16, async (r) => {
        const listen = listenOf(r.listener);
        const expected = expectedAnswer(model, listen, r);
        const [n, h] = await Promise.all([
          ask("127.0.0.2", listen, requestText(r)),
          ask("127.0.0.3", listen, requestText(r)),
        ]);
        if (n !== expected || h !== expected) {
          differences.push(
            `${r.host === null ? "(no Host)" : JSON.stringify(r.host)} ${
              JSON.stringify(r.path.slice(0, 80))
            } on ${r.listener}: routeRequest ${expected}, nginx ${n}, haproxy ${h}`,
          );
        }
        return expected;
      });
      // tcp listeners: the service answers through both balancers
      for (const l of model.tcpListeners) {
        const request = "GET / HTTP/1.0\r\n\r\n";
        for (const address of ["127.0.0.2", "127.0.0.3"]) {
          assert.equal(await ask(address, l.port, request), l.service.name, `tcp ${l.port}`);
        }
      }
      assert.deepEqual(differences, [], `${differences.length} of ${corpus.length} differ`);
      // the corpus exercises every kind of answer, so agreement is not agreement on nothing
      const kinds = new Set(results.map((a) => a.split(" ")[0].replace(/^[a-z].*/, "service")));
      assert.deepEqual([...kinds].sort(), ["301", "400", "404", "503", "service"]);
      console.log(`routing conformance: ${corpus.length} requests, nginx = HAProxy = routeRequest`);
    } finally {
      await nginx.stop();
      await haproxy.stop();
      await Promise.all([...backends.values()].map((b) => b.close()));
    }
  },
});
