/**
 * Routing agreement with nginx-proxy, through real nginx and real HAProxy. A corpus of 21
 * containers as they are started for nginx-proxy (single, listed, shared, duplicate, wildcard
 * and regex hosts; VIRTUAL_PORT, the one exposed port, else 80; VIRTUAL_PATH on a shared host;
 * stopped and unlabelled containers) and the requests of nginx-proxy's documented behaviour,
 * each with the answer nginx-proxy gives (from its template: nginx.tmpl of nginx-proxy 1.x):
 * which containers answer (as a set, over 6 requests), or the status. lbsync renders the
 * corpus with `--compat nginx-proxy` and each balancer must give every answer.
 *
 * Every container has an address of its own (127.0.1.N) with a server on each port it exposes
 * and on 80: only the port nginx-proxy would choose answers with the container's name, so a
 * wrong port choice shows as `NAME:wrong-port-P`.
 */
import assert from "node:assert/strict";
import { buildModel } from "../../mod.ts";
import type { ContainerInfo } from "../../lib/core/types.ts";
import { BALANCERS, freePort, rawRequest, startBalancer } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

interface CorpusContainer {
  name: string;
  env: Record<string, string>;
  /** Exposed tcp ports. */
  exposed: number[];
  /** The port nginx-proxy sends to: VIRTUAL_PORT, else the only exposed port, else 80. */
  port: number;
  running?: boolean;
}

const CORPUS: CorpusContainer[] = [
  { name: "single", env: { VIRTUAL_HOST: "single.test" }, exposed: [8080], port: 8080 },
  { name: "list1", env: { VIRTUAL_HOST: "l1.test,shared.test" }, exposed: [8080], port: 8080 },
  { name: "list2", env: { VIRTUAL_HOST: "shared.test,l2.test" }, exposed: [8080], port: 8080 },
  { name: "dup1", env: { VIRTUAL_HOST: "dup.test" }, exposed: [8080], port: 8080 },
  { name: "dup2", env: { VIRTUAL_HOST: "dup.test" }, exposed: [8080], port: 8080 },
  { name: "spaced", env: { VIRTUAL_HOST: "sp1.test, sp2.test" }, exposed: [8080], port: 8080 },
  { name: "wild", env: { VIRTUAL_HOST: "*.wild.test" }, exposed: [8080], port: 8080 },
  { name: "wildexact", env: { VIRTUAL_HOST: "exact.wild.test" }, exposed: [8080], port: 8080 },
  { name: "regex", env: { VIRTUAL_HOST: "~^re[0-9]+\\.rx\\.test$" }, exposed: [8080], port: 8080 },
  {
    name: "port",
    env: { VIRTUAL_HOST: "port.test", VIRTUAL_PORT: "3000" },
    exposed: [3000, 8080],
    port: 3000,
  },
  { name: "noport", env: { VIRTUAL_HOST: "noport.test" }, exposed: [], port: 80 },
  { name: "twoports", env: { VIRTUAL_HOST: "twoports.test" }, exposed: [8080, 9090], port: 80 },
  { name: "pathroot", env: { VIRTUAL_HOST: "paths.test" }, exposed: [8080], port: 8080 },
  {
    name: "pathapi",
    env: { VIRTUAL_HOST: "paths.test", VIRTUAL_PATH: "/api" },
    exposed: [8080],
    port: 8080,
  },
  {
    name: "pathdeep",
    env: { VIRTUAL_HOST: "paths.test", VIRTUAL_PATH: "/api/v2/" },
    exposed: [8080],
    port: 8080,
  },
  {
    name: "pathstatic",
    env: { VIRTUAL_HOST: "paths.test", VIRTUAL_PATH: "/static/" },
    exposed: [8080],
    port: 8080,
  },
  {
    name: "onlyapi",
    env: { VIRTUAL_HOST: "onlyapi.test", VIRTUAL_PATH: "/v1/" },
    exposed: [8080],
    port: 8080,
  },
  {
    name: "stopped",
    env: { VIRTUAL_HOST: "stopped.test" },
    exposed: [8080],
    port: 8080,
    running: false,
  },
  {
    name: "stoppedsingle",
    env: { VIRTUAL_HOST: "single.test" },
    exposed: [8080],
    port: 8080,
    running: false,
  },
  { name: "unlabelled", env: {}, exposed: [8080], port: 8080 },
  { name: "emptyhost", env: { VIRTUAL_HOST: "" }, exposed: [8080], port: 8080 },
];

/** [Host header (null: none, HTTP/1.0), path, nginx-proxy's answer]. */
const CASES: [string | null, string, string][] = [
  ["single.test", "/", "single"],
  ["single.test", "/deep/path?q=1", "single"],
  ["SINGLE.TEST", "/", "single"],
  ["single.test.", "/", "single"],
  ["l1.test", "/", "list1"],
  ["l2.test", "/", "list2"],
  ["shared.test", "/", "list1,list2"],
  ["dup.test", "/", "dup1,dup2"],
  ["sp1.test", "/", "spaced"],
  ["sp2.test", "/", "spaced"],
  ["a.wild.test", "/", "wild"],
  ["b.c.wild.test", "/x", "wild"],
  ["exact.wild.test", "/", "wildexact"],
  ["wild.test", "/", "503"],
  ["re1.rx.test", "/", "regex"],
  ["re42.rx.test", "/a", "regex"],
  ["RE7.RX.TEST", "/", "regex"],
  ["rex.rx.test", "/", "503"],
  ["re1.rx.test.evil", "/", "503"],
  ["port.test", "/", "port"],
  ["noport.test", "/", "noport"],
  ["twoports.test", "/", "twoports"],
  ["paths.test", "/", "pathroot"],
  ["paths.test", "/other", "pathroot"],
  ["paths.test", "/api", "pathapi"],
  ["paths.test", "/api/x", "pathapi"],
  ["paths.test", "/apix", "pathapi"],
  ["paths.test", "/api/v2/", "pathdeep"],
  ["paths.test", "/api/v2/x", "pathdeep"],
  ["paths.test", "/api/v2", "301"],
  ["paths.test", "/static", "301"],
  ["paths.test", "/static/", "pathstatic"],
  ["paths.test", "/static/app.css", "pathstatic"],
  ["paths.test", "/STATIC/", "pathroot"],
  ["onlyapi.test", "/", "404"],
  ["onlyapi.test", "/v1/", "onlyapi"],
  ["onlyapi.test", "/v1/users", "onlyapi"],
  ["onlyapi.test", "/v1", "301"],
  ["onlyapi.test", "/v2/", "404"],
  ["stopped.test", "/", "503"],
  ["unknown.test", "/", "503"],
  ["unknown.test", "/api", "503"],
  ["localhost", "/", "503"],
  ["127.0.0.1", "/", "503"],
  [null, "/", "503"],
  [null, "/api", "503"],
  ["single.test", "/.well-known/acme-challenge/token1", "acme"],
  ["paths.test", "/.well-known/acme-challenge/token2", "acme"],
];

const REPEAT = 6;

Deno.test({
  name:
    "nginx-proxy agreement: 21 containers, 48 requests, the same answers through nginx and HAProxy",
  ignore: missing("nginx", "haproxy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const servers: Deno.HttpServer[] = [];
    const serve = (hostname: string, port: number, answer: string) =>
      servers.push(Deno.serve({ hostname, port, onListen() {} }, () => new Response(answer)));
    const containers: ContainerInfo[] = CORPUS.map((c, i) => {
      const ip = `127.0.1.${i + 10}`;
      for (const p of new Set([...c.exposed, 80])) {
        serve(ip, p, p === c.port ? c.name : `${c.name}:wrong-port-${p}`);
      }
      return container(c.name, {}, {
        env: c.env,
        state: c.running === false ? "exited" : "running",
        networks: [{ name: "app", ip, ipv6: "" }],
        ports: c.exposed.map((port) => ({ port, protocol: "tcp" as const, published: [] })),
      });
    });
    const acmePort = freePort();
    serve("127.0.0.1", acmePort, "acme");
    const listen = freePort();
    const { model } = buildModel(containers, {
      compat: "nginx-proxy",
      listen,
      listenAddress: "127.0.0.1",
      acmeChallenge: `127.0.0.1:${acmePort}`,
    });
    const ask = async (host: string | null, path: string) => {
      const seen = new Set<string>();
      for (let i = 0; i < REPEAT; i++) {
        const request = host === null
          ? `GET ${path} HTTP/1.0\r\n\r\n`
          : `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
        const r = await rawRequest(listen, request);
        seen.add(r.status === 200 ? r.body.trim() : String(r.status));
      }
      return [...seen].sort().join(",");
    };
    try {
      for (const kind of BALANCERS) {
        const balancer = await startBalancer(kind, model);
        try {
          const disagree: string[] = [];
          for (const [host, path, want] of CASES) {
            const got = await ask(host, path);
            if (got !== want) disagree.push(`${host ?? "(no Host)"} ${path}: ${got}, not ${want}`);
          }
          assert.deepEqual(
            disagree,
            [],
            `${kind}: ${CASES.length - disagree.length}/${CASES.length} agree`,
          );
        } finally {
          await balancer.stop();
        }
      }
    } finally {
      await Promise.all(servers.map((s) => s.shutdown()));
    }
  },
});
