/**
 * The pure core: buildModel + render for 10, 1,000 and 10,000 containers.
 * Run: deno task bench (or deno bench bench/core_bench.ts)
 */
import { buildModel, render, templates } from "../mod.ts";
import type { ContainerInfo } from "../lib/core/types.ts";

function containers(n: number): ContainerInfo[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i.toString(16).padStart(64, "0"),
    name: `app-${i}`,
    image: "app:latest",
    labels: {
      "lbsync.service": `svc-${i % Math.max(1, Math.floor(n / 10))}`,
      "lbsync.host": `svc-${i % Math.max(1, Math.floor(n / 10))}.example.com`,
      "lbsync.health": "/healthz",
    },
    state: "running",
    health: "none",
    networks: [{ name: "app", ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, ipv6: "" }],
    networkMode: "app",
    ports: [{ port: 8080, protocol: "tcp", published: [] }],
    created: 1_700_000_000_000 + i,
    engine: "",
  }));
}

for (const n of [10, 1_000, 10_000]) {
  const input = containers(n);
  for (const target of ["nginx", "haproxy"] as const) {
    Deno.bench(`buildModel + render ${target}, ${n} containers`, { group: `${n}` }, () => {
      render(templates[target], buildModel(input).model);
    });
  }
  Deno.bench(`buildModel only, ${n} containers`, { group: `${n}` }, () => {
    buildModel(input);
  });
}

// HTTPS: 1,000 hosts (one service each), every one with its own certificate, against plain HTTP
const httpsInput = containers(1_000).map((c, i) => ({
  ...c,
  labels: { "lbsync.service": `site-${i}`, "lbsync.host": `site-${i}.example.com` },
}));
const certificates = new Map(httpsInput.map((_, i) => {
  const name = `site-${i}.example.com`;
  return [name, {
    name,
    certificate: `/certs/${name}.crt`,
    key: `/certs/${name}.key`,
    version: "0123456789abcdef",
  }];
}));
for (const target of ["nginx", "haproxy"] as const) {
  for (const tls of [false, true]) {
    Deno.bench(
      `buildModel + render ${target}, 1,000 hosts, ${tls ? "HTTPS" : "HTTP only"}`,
      { group: `https-${target}`, baseline: !tls },
      () => {
        render(templates[target], buildModel(httpsInput, tls ? { certificates } : {}).model);
      },
    );
  }
}
