/** Fixture loading and a small builder of `ContainerInfo` values for unit tests. */
import { containersFromDockerApi } from "../../lib/core/input/docker_json.ts";
import type { ContainerInfo } from "../../lib/core/types.ts";

/** The project root, as an absolute path. */
export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Parsed JSON of `tests/fixtures/NAME`. */
export function fixtureJson(name: string): unknown {
  return JSON.parse(Deno.readTextFileSync(`${ROOT}/tests/fixtures/${name}`));
}

/** Containers of `tests/fixtures/NAME`. */
export function fixtureContainers(name: string): ContainerInfo[] {
  return containersFromDockerApi(fixtureJson(name));
}

let counter = 0;

/** Restarts ids, addresses and creation times of {@link container} from the first. */
export function resetContainers(): void {
  counter = 0;
}

/**
 * A running container on network `app` exposing 8080, with `labels`; any field can be
 * overridden. Ids are distinct and ascending; `created` follows call order.
 */
export function container(
  name: string,
  labels: Record<string, string> = {},
  overrides: Partial<ContainerInfo> = {},
): ContainerInfo {
  counter += 1;
  const n = counter;
  return {
    id: n.toString(16).padStart(12, "0") + "f".repeat(52),
    name,
    image: "app:latest",
    labels,
    state: "running",
    health: "none",
    networks: [{ name: "app", ip: `10.0.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`, ipv6: "" }],
    networkMode: "app",
    ports: [{ port: 8080, protocol: "tcp", published: [] }],
    created: 1_700_000_000_000 + n * 1000,
    engine: "",
    ...overrides,
  };
}

/** A container for {@link containerSummaries}: a name, an IP on network `app`, labels. */
export interface SummaryItem {
  name: string;
  ip: string;
  labels: Record<string, string>;
}

/**
 * `GET /containers/json` summaries of `items`, as an engine writes them: each a running
 * container with a distinct 64-hex-digit id, created a second after the one before.
 */
export function containerSummaries(items: SummaryItem[]): string {
  return JSON.stringify(items.map(({ name, ip, labels }, i) => ({
    Id: Array.from(new TextEncoder().encode(name), (b) => b.toString(16).padStart(2, "0"))
      .join("").padEnd(64, `${i % 10}`).slice(0, 64),
    Names: [`/${name}`],
    Image: "app",
    Created: 1_700_000_000 + i,
    State: "running",
    Status: "Up",
    Labels: labels,
    Ports: [],
    HostConfig: { NetworkMode: "app" },
    NetworkSettings: { Networks: { app: { IPAddress: ip } } },
  })));
}

/**
 * The names in `dir`, sorted, without lbsync's lock files (`.NAME.lbsync-lock` stay beside
 * their outputs by design): what a run left behind.
 */
export function leftInDir(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => !n.endsWith(".lbsync-lock"))
    .sort();
}

/**
 * `/containers/json` summaries of host-network containers `app-1`, `app-2`, ... of service
 * `app`, each listening on one of `ports` (on 127.0.0.1: `--host-ip` defaults there).
 */
export function hostNetworkSummaries(ports: number[]): string {
  return JSON.stringify(ports.map((port, i) => ({
    Id: `${i + 1}`.repeat(64).slice(0, 64),
    Names: [`/app-${i + 1}`],
    Image: "app",
    Created: 1_700_000_000 + i,
    State: "running",
    Labels: { "lbsync.service": "app", "lbsync.port": String(port) },
    HostConfig: { NetworkMode: "host" },
    NetworkSettings: { Networks: { host: { IPAddress: "" } } },
    Ports: [],
  })));
}

/** A small deterministic PRNG (mulberry32): the same seed, the same sequence in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
