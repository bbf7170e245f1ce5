/**
 * A fake Docker Engine API on a unix socket, for what one real engine cannot give on one
 * machine: thousands of containers and storms of synthetic events. It serves real-shaped
 * JSON (each summary is a container summary captured from a real engine, see
 * tests/fixtures/, with id, name, address and labels changed) and counts requests.
 * Benchmarks only; tests use the real engine.
 */

const template = JSON.parse(
  Deno.readTextFileSync(new URL("../tests/fixtures/containers-summary.json", import.meta.url)),
).find((c: { Names: string[] }) => c.Names[0] === "/fx-web-2");

const inspectTemplate = JSON.parse(
  Deno.readTextFileSync(new URL("../tests/fixtures/containers-inspect.json", import.meta.url)),
).find((c: { Name: string }) => c.Name === "/fx-web-2");

/**
 * An inspect object like the engine's for container number `i` (docker-gen inspects every
 * container; nginx-proxy's template reads its environment).
 */
export function fakeInspect(i: number, running: boolean): unknown {
  const summary = fakeSummary(i, running) as {
    Id: string;
    Labels: Record<string, string>;
    NetworkSettings: { Networks: Record<string, unknown> };
  };
  const service = summary.Labels["lbsync.service"];
  return {
    ...inspectTemplate,
    Id: summary.Id,
    Name: `/app-${i}`,
    State: { ...inspectTemplate.State, Running: running, Status: running ? "running" : "exited" },
    Config: {
      ...inspectTemplate.Config,
      Labels: summary.Labels,
      Env: ["PATH=/bin", `VIRTUAL_HOST=${service}.example.com`, "VIRTUAL_PORT=8080"],
    },
    NetworkSettings: {
      ...inspectTemplate.NetworkSettings,
      Networks: summary.NetworkSettings.Networks,
    },
  };
}

/** A container summary like the engine's, for container number `i`. */
export function fakeSummary(i: number, running: boolean, service = `svc-${i % 50}`): unknown {
  const id = (0x10000000 + i).toString(16).padStart(12, "0").repeat(6).slice(0, 64);
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${(i & 255) || 1}`;
  return {
    ...template,
    Id: id,
    Names: [`/app-${i}`],
    Created: 1_795_000_000 + i,
    State: running ? "running" : "exited",
    Status: running ? "Up 5 minutes" : "Exited (0) 1 second ago",
    Labels: { "lbsync.service": service, "lbsync.host": `${service}.example.com` },
    NetworkSettings: {
      Networks: {
        app: { ...template.NetworkSettings.Networks["fx-app"], IPAddress: running ? ip : "" },
      },
    },
  };
}

/** The fake engine. */
export class FakeDockerApi {
  readonly socketPath: string;
  readonly running: boolean[];
  /** Requests served, by `METHOD path` without the query. */
  readonly requests = new Map<string, number>();
  #server: Deno.HttpServer;
  #streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  #encoder = new TextEncoder();

  /** Serves `count` containers, all running, on a new socket in `dir`. */
  constructor(dir: string, count: number) {
    this.socketPath = `${dir}/fake-docker.sock`;
    this.running = Array.from({ length: count }, () => true);
    this.#server = Deno.serve({ path: this.socketPath, onListen() {} }, (req) => this.#handle(req));
  }

  /** Running containers' names. */
  runningNames(): string[] {
    return this.running.flatMap((up, i) => (up ? [`app-${i}`] : []));
  }

  /** Flips container `i` and sends the events a real engine sends for it. */
  toggle(i: number): void {
    this.running[i] = !this.running[i];
    const id = (fakeSummary(i, true) as { Id: string }).Id;
    const actions = this.running[i] ? ["start"] : ["kill", "die", "stop"];
    for (const action of actions) {
      this.emit({
        Type: "container",
        Action: action,
        Actor: {
          ID: id,
          Attributes: action === "kill" ? { signal: "15", name: `app-${i}` } : { name: `app-${i}` },
        },
        time: Math.floor(Date.now() / 1000),
        timeNano: Date.now() * 1e6,
      });
    }
  }

  /** Sends one event to every open event stream. */
  emit(event: unknown): void {
    const line = this.#encoder.encode(JSON.stringify(event) + "\n");
    for (const controller of this.#streams) controller.enqueue(line);
  }

  /** Total requests to `GET /containers/json`. */
  listRequests(): number {
    return this.requests.get("GET /containers/json") ?? 0;
  }

  /** Stops serving. */
  async close(): Promise<void> {
    for (const c of this.#streams) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await this.#server.shutdown();
  }

  #handle(req: Request): Response {
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/v[0-9.]+/, "");
    const key = `${req.method} ${path}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    if (path === "/containers/json") {
      const all = url.searchParams.get("all") === "true" || url.searchParams.get("all") === "1";
      const list = this.running.flatMap((up, i) => (up || all ? [fakeSummary(i, up)] : []));
      return Response.json(list);
    }
    if (path === "/events") {
      let self: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          self = controller;
          this.#streams.add(controller);
        },
        cancel: () => {
          this.#streams.delete(self);
        },
      });
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    const inspect = /^\/containers\/([0-9a-f]{64})\/json$/.exec(path);
    if (inspect) {
      // ids are made from the index (see fakeSummary): its first 12 hex digits give it back
      const i = parseInt(inspect[1].slice(0, 12), 16) - 0x10000000;
      if (i >= 0 && i < this.running.length) {
        return Response.json(fakeInspect(i, this.running[i]));
      }
    }
    if (path === "/info") {
      return Response.json({ ID: "FAKE", Name: "fake-engine", ServerVersion: "20.10.24" });
    }
    if (path === "/networks") {
      return Response.json([{ Name: "app", Id: "a".repeat(64), Driver: "bridge", Scope: "local" }]);
    }
    if (path === "/_ping") return new Response("OK");
    if (path === "/version") return Response.json({ Version: "20.10.24", ApiVersion: "1.41" });
    return Response.json({ message: `page not found: ${path}` }, { status: 404 });
  }
}
