/**
 * Label values are untrusted: anyone who can start a container writes them. These tests
 * feed hostile and random values and prove nothing unchecked reaches the configuration.
 */
import assert from "node:assert/strict";
import { buildModel, render, templates } from "../../mod.ts";
import type { ContainerInfo } from "../../lib/core/types.ts";
import { haproxyCheck, nginxCheck } from "../support/balancers.ts";
import { container } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";
import { INJECTIONS } from "../support/hostile.ts";

const LABELS = [
  "host",
  "path",
  "port",
  "weight",
  "service",
  "listen",
  "health",
  "network",
  "mode",
  "backup",
];

Deno.test("hostile label values skip the container and never reach the output", () => {
  const containers: ContainerInfo[] = [];
  for (const [i, injection] of INJECTIONS.entries()) {
    for (const label of LABELS) {
      containers.push(container(`c-${i}-${label}`, {
        "lbsync.service": "web",
        [`lbsync.${label}`]: `${label === "path" || label === "health" ? "/" : "1"}x${injection}`,
      }));
    }
  }
  const { model, skipped } = buildModel(containers);
  assert.equal(skipped.length, containers.length);
  for (const s of skipped) {
    assert.match(s.reason, /^label lbsync\.[a-z]+=".*": /, s.name);
    assert.equal(/[\n\r]/.test(s.reason), false, s.name);
  }
  for (const text of [render(templates.nginx, model), render(templates.haproxy, model)]) {
    for (const injection of INJECTIONS) assert.equal(text.includes(`x${injection}`), false);
    assert.equal(text.includes("evil"), false);
  }
});

/** A small deterministic generator (Park-Miller), so failures can be replayed by seed. */
function random(seed: number) {
  let state = seed;
  const next = () => (state = (state * 16807) % 2147483647) / 2147483647;
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)],
  };
}

const ALPHABET = [
  ..."abcxyz019-._/*,:=%~!@+?&",
  ..." \t\n;{}#\"'`\\$()[]<>|^",
  "\u0000",
  "\u212a",
  "\u0430",
  "\u202e",
];
const GOOD = {
  host: ["a.example.com", "*.b.example.com", "c-1.example.org"],
  path: ["/", "/api", "/api/v2", "/%41"],
  port: ["8080", "80", "9000"],
  weight: ["1", "7", "256"],
  mode: ["http", "http", "tcp"],
  listen: ["80", "8081", "7000", "7001"],
  health: ["/", "/healthz?x=1"],
  backup: ["true", "false"],
};

function randomValue(rng: ReturnType<typeof random>, label: keyof typeof GOOD): string {
  const good = rng.pick(GOOD[label]);
  if (rng.int(3) === 0) return good;
  const chars = Array.from({ length: 1 + rng.int(6) }, () => rng.pick(ALPHABET)).join("");
  const at = rng.int(good.length + 1);
  return good.slice(0, at) + chars + good.slice(at);
}

function randomContainers(seed: number, count: number): ContainerInfo[] {
  const rng = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const labels: Record<string, string> = { "lbsync.service": `s${rng.int(12)}` };
    for (const label of Object.keys(GOOD) as (keyof typeof GOOD)[]) {
      if (rng.int(2) === 0) labels[`lbsync.${label}`] = randomValue(rng, label);
    }
    return container(`r${seed}-${i}`, labels);
  });
}

for (const seed of [1, 2, 3, 4, 5]) {
  Deno.test({
    name: `random labels (seed ${seed}): rendered config stays valid for nginx -t and haproxy -c`,
    ignore: missing("nginx", "haproxy"),
    async fn() {
      const { model, skipped } = buildModel(randomContainers(seed, 300));
      assert.ok(skipped.length > 0 && model.services.length > 0, "both outcomes occur");
      const servers = model.services.reduce((n, s) => n + s.servers.length, 0);
      const http = render(templates.nginx, model);
      const stream = render(templates["nginx-stream"], model);
      const haproxy = render(templates.haproxy, model);
      const nginx = await nginxCheck({ http, stream });
      assert.ok(nginx.ok, nginx.output);
      const hap = await haproxyCheck(haproxy);
      assert.ok(hap.ok, hap.output);
      // every server line comes from a container that is in: none smuggled in by a label
      assert.equal((haproxy.match(/^ {4}server /gm) ?? []).length, servers);
      const nginxServers = (http + stream).match(/^ {4}server \S+ weight=/gm) ?? [];
      const tcpListening = model.tcpListeners.reduce((n, l) => n + l.service.servers.length, 0);
      const httpUpstreams = model.httpServices.reduce((n, s) => n + s.servers.length, 0);
      assert.equal(nginxServers.length, httpUpstreams + tcpListening);
    },
  });
}
