/**
 * `--status-listen ADDR`: `GET /healthz`, `GET /status`, `GET /metrics`, `POST /resync`.
 *
 * @module
 */
import { ConfigError } from "./errors.ts";
import type { WatchStats } from "./watch_stats.ts";

/** Where to listen: `PORT`, `HOST:PORT` or `[V6]:PORT`; a bare port binds 127.0.0.1. */
export function parseListenAddress(
  text: string,
  flag = "--status-listen",
): { hostname: string; port: number } {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) {
    throw new ConfigError(
      `Invalid ${flag} ${JSON.stringify(text)}: use PORT or HOST:PORT (e.g. 127.0.0.1:9090)`,
    );
  }
  const host = match[1] || "127.0.0.1";
  return { hostname: host.replace(/^\[(.*)\]$/, "$1"), port };
}

/** Serves the status endpoints until `signal` aborts. Returns the bound port. */
export function serveStatus(
  address: string,
  stats: WatchStats,
  resync: () => void,
  signal: AbortSignal,
): { port: number; finished: Promise<void> } {
  const { hostname, port } = parseListenAddress(address);
  const server = Deno.serve({ hostname, port, signal, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path === "/healthz") {
      const reason = stats.unhealthyReason();
      return new Response(reason === undefined ? "ok\n" : `unhealthy: ${reason}\n`, {
        status: reason === undefined ? 200 : 503,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    if (req.method === "GET" && path === "/status") return Response.json(stats.status());
    if (req.method === "GET" && path === "/metrics") {
      return new Response(stats.metrics(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }
    if (req.method === "POST" && path === "/resync") {
      resync();
      return new Response("resync started\n", { status: 202 });
    }
    return new Response("not found: /healthz, /status, /metrics, POST /resync\n", { status: 404 });
  });
  return { port: server.addr.port, finished: server.finished };
}
