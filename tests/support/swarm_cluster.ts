/**
 * A real 3-node Swarm for tests (scripts/swarm_cluster.sh): node sockets and addresses, the
 * docker CLI per node, and commands in the cluster's client namespace, where the balancer,
 * lbsync and the clients run (node addresses are reachable there, not from the host).
 */
import { IN_CI, noteSkipped, run, type RunResult, whichSync } from "./tools.ts";

const SCRIPT = new URL("../../scripts/swarm_cluster.sh", import.meta.url).pathname;
/** The namespace that reaches every node (10.78.0.254). */
export const CLIENT_NETNS = "lbswlan";
/** The image every node has: busybox httpd answering its host name on 8080. */
export const SWARM_IMAGE = "lbsync-test/httpd:latest";
const DOCKER = "/usr/bin/docker";

/** One node of the cluster. */
export interface SwarmNode {
  /** 1, 2, 3. */
  n: number;
  /** `unix:///tmp/lbsync-swarm/nodeN/docker.sock`. */
  socket: string;
  /** `10.78.0.N`. */
  address: string;
  /** The node's host name in the swarm. */
  hostname: string;
}

/** Why the cluster cannot run here (not root, a tool missing), or `undefined`. */
export function clusterMissing(): string | undefined {
  const why = Deno.uid() !== 0
    ? "needs root"
    : ["dockerd", "ip", "unshare", "nsenter", "busybox"].find((t) => !whichSync(t));
  if (why && IN_CI) throw new Error(`the Swarm cluster cannot run in CI: ${why}`);
  if (why) noteSkipped(`the Swarm cluster ${why === "needs root" ? why : `needs ${why}`}`);
  return why;
}

/** A running cluster. */
export class SwarmCluster {
  /** The nodes, node1 first (the first manager; the others join as workers). */
  readonly nodes: SwarmNode[];
  readonly #env: Record<string, string>;

  private constructor(count: number) {
    this.nodes = Array.from({ length: count }, (_, i) => i + 1).map((n) => ({
      n,
      socket: `unix:///tmp/lbsync-swarm/node${n}/docker.sock`,
      address: `10.78.0.${n}`,
      hostname: `lbswnode${n}`,
    }));
    this.#env = { NODES: String(count) };
  }

  /** Brings a cluster of `count` nodes up (a few seconds). */
  static async start(count = 3): Promise<SwarmCluster> {
    const cluster = new SwarmCluster(count);
    await cluster.#script("up");
    return cluster;
  }

  /** Runs `swarm_cluster.sh ARGS`; throws with its output when it fails. */
  async #script(...args: string[]): Promise<void> {
    const r = await run(["bash", SCRIPT, ...args], { env: this.#env });
    if (r.code !== 0) throw new Error(`swarm_cluster.sh ${args.join(" ")}: ${r.stderr.trim()}`);
  }

  /** `docker ARGS` against node `n`; throws on failure unless `allowFailure`. */
  async docker(n: number, args: string[], allowFailure = false): Promise<RunResult> {
    const r = await run([DOCKER, "-H", this.nodes[n - 1].socket, ...args]);
    if (r.code !== 0 && !allowFailure) {
      throw new Error(`docker ${args.join(" ")} on node${n}: ${r.stderr.trim()}`);
    }
    return r;
  }

  /** `docker ARGS` through the first manager that answers. */
  async manager(args: string[]): Promise<RunResult> {
    let last: RunResult | undefined;
    for (const node of this.nodes) {
      last = await this.docker(node.n, args, true);
      if (last.code === 0) return last;
    }
    throw new Error(`docker ${args.join(" ")}: no manager answered: ${last?.stderr.trim()}`);
  }

  /**
   * Creates service `name` of the test image on node1 (dnsrr, labelled `lbsync.service=NAME`,
   * `lbsync.port=8080`), with `extra` options (replicas, network, publishing, labels).
   */
  async createService(name: string, extra: string[]): Promise<void> {
    await this.docker(1, [
      "service",
      "create",
      "-d",
      "-q",
      "--no-resolve-image",
      "--name",
      name,
      "--endpoint-mode",
      "dnsrr",
      "--label",
      `lbsync.service=${name}`,
      "--label",
      "lbsync.port=8080",
      ...extra,
      SWARM_IMAGE,
    ]);
  }

  /** The command prefix that runs a command in the client namespace. */
  get inClient(): string[] {
    return ["ip", "netns", "exec", CLIENT_NETNS];
  }

  /**
   * `curl` in the client namespace (or after `prefix`, e.g. `nsenter --net=...`): status and
   * body of one GET, bounded by 5 s.
   */
  async get(
    url: string,
    prefix: string[] = this.inClient,
    host?: string,
  ): Promise<{ status: number; body: string }> {
    const r = await run([
      ...prefix,
      "curl",
      "-s",
      "-m",
      "5",
      ...(host ? ["-H", `Host: ${host}`] : []),
      "-w",
      "\n%{http_code}",
      url,
    ]);
    const lines = r.stdout.split("\n");
    return { status: Number(lines.pop()) || 0, body: lines.join("\n").trim() };
  }

  /** Kills node `n`'s dockerd (SIGKILL, as a crash); its containers keep running. */
  kill(n: number): Promise<void> {
    return this.#script("kill", String(n));
  }

  /** Starts node `n`'s dockerd again. */
  restart(n: number): Promise<void> {
    return this.#script("start", String(n));
  }

  /** Makes node `n` a manager. */
  promote(n: number): Promise<void> {
    return this.#script("promote", String(n));
  }

  /** Stops every node and removes the namespaces. */
  stop(): Promise<void> {
    return this.#script("down");
  }

  /**
   * The running tasks of `service` as `node address` per task (`published` port, else its
   * IP on `network`), read through a manager: what lbsync should render.
   */
  async runningTasks(service: string): Promise<{ id: string; node: string }[]> {
    const r = await this.manager([
      "service",
      "ps",
      service,
      "--filter",
      "desired-state=running",
      "--no-trunc",
      "--format",
      "{{.ID}} {{.Node}} {{.CurrentState}}",
    ]);
    return r.stdout.trim().split("\n").filter((l) => / Running /.test(l)).map((l) => {
      const [id, node] = l.split(" ");
      return { id, node };
    });
  }

  /**
   * The first 12 digits of the ids of the tasks lbsync should serve: running, on a node that
   * is ready and active. Sorted.
   */
  async servingTaskIds(service: string): Promise<string[]> {
    const nodes = await this.manager([
      "node",
      "ls",
      "--format",
      "{{.Hostname}} {{.Status}} {{.Availability}}",
    ]);
    const live = new Set(
      nodes.stdout.trim().split("\n").map((l) => l.split(" ")).filter(([, status, availability]) =>
        status === "Ready" && availability === "Active"
      ).map(([host]) => host),
    );
    return (await this.runningTasks(service)).filter((t) => live.has(t.node))
      .map((t) => t.id.slice(0, 12)).sort();
  }

  /** The network namespace of container `name` on node `n`, as an `nsenter` prefix. */
  async netnsOf(n: number, name: string): Promise<string[]> {
    const pid = (await this.docker(n, ["inspect", "-f", "{{.State.Pid}}", name])).stdout.trim();
    return ["nsenter", `--net=/proc/${pid}/ns/net`];
  }

  /** Waits until `service` has `count` running tasks, up to `timeoutMs`. */
  async waitRunning(service: string, count: number, timeoutMs = 60_000): Promise<void> {
    await until(
      `${service}: ${count} running tasks`,
      timeoutMs,
      async () => (await this.runningTasks(service)).length === count,
    );
  }
}

/** lbsync's options for a swarm read through `managers`, tasks by their address on `network`. */
export function swarmArgs(managers: string[], network: string, listen: number): string[] {
  return [
    "--swarm",
    ...managers.flatMap((m) => ["--docker", m]),
    "--network",
    network,
    "--listen",
    String(listen),
  ];
}

/** Watch options of the cluster's tests and benches: quick batches, `/status` on `port`. */
export function watchArgs(port: number): string[] {
  return ["--heartbeat", "100ms:500ms", "--status-listen", `127.0.0.1:${port}`];
}

/** How often {@link until} polls. */
export const UNTIL_POLL_MS = 250;

/** Polls `check` every 250 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean> | boolean,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, UNTIL_POLL_MS));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
