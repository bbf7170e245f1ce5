/**
 * `--status-listen ADDR`: `GET /healthz`, `GET /status`, `GET /explain` (the model in force, as
 * `lbsync explain` prints it), `GET /model` (the same model as JSON, for `explain` and `route`
 * `--from-status`), `GET /metrics`, `POST /resync`; what a browser could send (an `Origin`, a
 * rebound `Host`) is refused as by the admin API.
 *
 * @module
 */
import { parseListenAddress } from "../core/util/listen_address.ts";
import { refuseBrowser } from "./browser_guard.ts";
import { LIVE_MODEL_MAX_BYTES } from "../core/live_model.ts";
import type { WatchStats } from "./watch_stats.ts";

/** Serves the status endpoints until `signal` aborts. Returns the bound port. */
export function serveStatus(
  address: string,
  stats: WatchStats,
  resync: () => void,
  signal: AbortSignal,
): { port: number; finished: Promise<void> } {
  const { hostname, port } = parseListenAddress(address, "status address");
  const server = Deno.serve({ hostname, port, signal, onListen() {} }, (req) => {
    // the whole model is here: a page in a browser must neither read it nor POST /resync
    const refusal = refuseBrowser(req.headers, hostname, false);
    if (refusal) {
      return new Response(`${refusal.reason}\n`, {
        status: refusal.status,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path === "/healthz") {
      const reason = stats.unhealthyReason();
      const degraded = reason === undefined ? stats.degradedReason() : undefined;
      const text = reason !== undefined
        ? `unhealthy: ${reason}\n`
        : degraded !== undefined
        ? `degraded: ${degraded}\n`
        : "ok\n";
      return new Response(text, {
        status: reason === undefined && degraded === undefined ? 200 : 503,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    if (req.method === "GET" && path === "/status") return Response.json(stats.status());
    if (req.method === "GET" && path === "/explain") {
      const json = new URL(req.url).searchParams.get("format") === "json";
      return new Response(stats.explain(json), {
        headers: { "content-type": json ? "application/json" : "text/plain; charset=utf-8" },
      });
    }
    if (req.method === "GET" && path === "/model") return modelResponse(stats.liveModel());
    if (req.method === "GET" && path === "/metrics") {
      return new Response(stats.metrics(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }
    if (req.method === "POST" && path === "/resync") {
      resync();
      return new Response("resync started\n", { status: 202 });
    }
    const known = "/healthz, /status, /explain, /model, /metrics, POST /resync";
    return new Response(`not found: ${known}\n`, { status: 404 });
  });
  return { port: server.addr.port, finished: server.finished };
}

/**
 * `GET /model`: the document, or 503 before the first apply and for a model over the limit
 * a reader accepts (a reader would refuse it whole).
 */
function modelResponse(text: string | undefined): Response {
  const plain = { "content-type": "text/plain; charset=utf-8" };
  if (text === undefined) return new Response("no apply yet\n", { status: 503, headers: plain });
  const body = new TextEncoder().encode(text);
  if (body.length > LIVE_MODEL_MAX_BYTES) {
    return new Response(
      `the model is ${body.length} bytes, over the ${LIVE_MODEL_MAX_BYTES} a reader accepts\n`,
      { status: 503, headers: plain },
    );
  }
  return new Response(body, { headers: { "content-type": "application/json" } });
}
