/**
 * Real nginx and HAProxy for tests: validate rendered output (`nginx -t`, `haproxy -c`) and
 * run private instances on 127.0.0.1 in a temporary directory.
 */
import { render, templates } from "../../mod.ts";
import type { Model } from "../../lib/core/types.ts";
import { requireTool, run, waitForExit } from "./tools.ts";

/** Result of a balancer's own config check. */
export interface CheckResult {
  ok: boolean;
  output: string;
}

const STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so";

/**
 * A complete nginx.conf for a private prefix `dir` that includes the http file and,
 * when given, the stream file.
 */
export function nginxMainConf(dir: string, httpFile?: string, streamFile?: string): string {
  return [
    streamFile ? `load_module ${STREAM_MODULE};` : "",
    "user root;",
    "worker_processes 1;",
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log notice;`,
    "events { worker_connections 512; }",
    "http {",
    `    access_log ${dir}/access.log;`,
    `    client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;`,
    `    fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`,
    httpFile ? `    include ${httpFile};` : "",
    "}",
    streamFile ? `stream {\n    include ${streamFile};\n}` : "",
    "",
  ].join("\n");
}

/** Runs real `nginx -t` on rendered http and stream files. */
export async function nginxCheck(files: { http?: string; stream?: string }): Promise<CheckResult> {
  const nginx = requireTool("nginx");
  const dir = await Deno.makeTempDir({ prefix: "lbsync-nginx-" });
  try {
    const http = files.http === undefined ? undefined : `${dir}/lbsync.conf`;
    const stream = files.stream === undefined ? undefined : `${dir}/lbsync-stream.conf`;
    if (http) await Deno.writeTextFile(http, files.http!);
    if (stream) await Deno.writeTextFile(stream, files.stream!);
    await Deno.writeTextFile(`${dir}/nginx.conf`, nginxMainConf(dir, http, stream));
    const r = await run([nginx, "-t", "-p", `${dir}/`, "-c", `${dir}/nginx.conf`]);
    return { ok: r.code === 0, output: (r.stdout + r.stderr).trim() };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs real `haproxy -c` on a rendered haproxy.cfg. Warnings count as failures. */
export async function haproxyCheck(text: string): Promise<CheckResult> {
  const haproxy = requireTool("haproxy");
  const file = await Deno.makeTempFile({ prefix: "lbsync-haproxy-", suffix: ".cfg" });
  try {
    await Deno.writeTextFile(file, text);
    const r = await run([haproxy, "-c", "-f", file]);
    const output = (r.stdout + r.stderr).trim();
    return { ok: r.code === 0 && !/\[(WARNING|ALERT)\]/.test(output), output };
  } finally {
    await Deno.remove(file);
  }
}

/** A private balancer on 127.0.0.1, stopped by `stop()`. */
export interface RunningBalancer {
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts real nginx in a private prefix with the given http and stream files; after `prefix`
 * when given (`ip netns exec NS` starts it in another network namespace).
 */
export async function startNginx(
  files: { http: string; stream?: string },
  prefix: string[] = [],
): Promise<RunningBalancer> {
  const nginx = requireTool("nginx");
  const dir = await Deno.makeTempDir({ prefix: "lbsync-nginx-" });
  const http = `${dir}/lbsync.conf`;
  const stream = files.stream === undefined ? undefined : `${dir}/lbsync-stream.conf`;
  await Deno.writeTextFile(http, files.http);
  if (stream) await Deno.writeTextFile(stream, files.stream!);
  await Deno.writeTextFile(`${dir}/nginx.conf`, nginxMainConf(dir, http, stream));
  const args = ["-p", `${dir}/`, "-c", `${dir}/nginx.conf`];
  const r = await run([...prefix, nginx, ...args]);
  if (r.code !== 0) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(`nginx did not start: ${r.stderr.trim()}`);
  }
  return {
    dir,
    async stop() {
      await run([nginx, ...args, "-s", "stop"]);
      await waitGone(`${dir}/nginx.pid`);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The two balancers, as tests name them. */
export const BALANCERS = ["nginx", "HAProxy"] as const;

/** Real nginx or real HAProxy serving `model` through its built-in template (after `prefix`). */
export function startBalancer(
  kind: (typeof BALANCERS)[number],
  model: Model,
  prefix: string[] = [],
): Promise<RunningBalancer> {
  return kind === "nginx"
    ? startNginx({ http: render(templates.nginx, model) }, prefix)
    : startHaproxy(render(templates.haproxy, model), prefix);
}

/** Starts real HAProxy (master-worker, daemon) with the given config; after `prefix` if given. */
export async function startHaproxy(cfg: string, prefix: string[] = []): Promise<RunningBalancer> {
  const haproxy = requireTool("haproxy");
  const dir = await Deno.makeTempDir({ prefix: "lbsync-haproxy-" });
  await Deno.writeTextFile(`${dir}/haproxy.cfg`, cfg);
  const pidFile = `${dir}/haproxy.pid`;
  const r = await run([
    ...prefix,
    haproxy,
    "-W",
    "-D",
    "-dR",
    "-f",
    `${dir}/haproxy.cfg`,
    "-p",
    pidFile,
  ], {
    cwd: dir,
  });
  if (r.code !== 0) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(`haproxy did not start: ${r.stderr.trim()}`);
  }
  return {
    dir,
    async stop() {
      const pid = Number((await Deno.readTextFile(pidFile)).trim());
      try {
        Deno.kill(pid, "SIGTERM");
      } catch { /* already gone */ }
      await waitGone(pidFile, pid);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function waitGone(pidFile: string, known?: number): Promise<void> {
  const pid = known ?? Number((await Deno.readTextFile(pidFile).catch(() => "")).trim());
  await waitForExit(pid, 5000);
}

/** A response from {@link httpGet}. */
export interface HttpResponse {
  status: number;
  body: string;
  /** Response headers, names lowercased (the last of repeated ones). */
  headers: Map<string, string>;
}

/**
 * `GET path` from 127.0.0.1:`port` with a given Host header, over a fresh connection
 * (HTTP/1.1, `Connection: close`). Bounded by `timeoutMs`; a connection that fails or
 * times out gives status 0 and the error as the body.
 */
export function httpGet(
  port: number,
  path: string,
  host = "localhost",
  timeoutMs = 5000,
): Promise<HttpResponse> {
  return rawRequest(
    port,
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\nUser-Agent: lbsync-test\r\n\r\n`,
    timeoutMs,
  );
}

/** Sends `request` as written (any head, e.g. no Host) and reads the response to the end. */
export async function rawRequest(
  port: number,
  request: string,
  timeoutMs = 5000,
  hostname = "127.0.0.1",
): Promise<HttpResponse> {
  let conn: Deno.TcpConn | undefined;
  const timer = setTimeout(() => conn?.close(), timeoutMs);
  try {
    conn = await Deno.connect({ hostname, port });
    await conn.write(new TextEncoder().encode(request));
    const raw = await new Response(conn.readable).text();
    const [head, ...rest] = raw.split("\r\n\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
    const headers = new Map(
      head.split("\r\n").slice(1).map((line) => {
        const colon = line.indexOf(":");
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
      }),
    );
    let body = rest.join("\r\n\r\n");
    if (headers.get("transfer-encoding")?.toLowerCase() === "chunked") body = unchunk(body);
    return { status, body, headers };
  } catch (error) {
    return { status: 0, body: String(error), headers: new Map() };
  } finally {
    clearTimeout(timer);
  }
}

function unchunk(body: string): string {
  let out = "";
  let rest = body;
  while (rest.length > 0) {
    const eol = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, eol), 16);
    if (!size) break;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
  return out;
}

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * What `count` sequential requests got, with how often: the trimmed body of each 200 (the
 * test containers answer their own id), `status N` otherwise.
 */
export async function answerCounts(
  port: number,
  path: string,
  host: string,
  count: number,
  timeoutMs = 5000,
): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const r = await httpGet(port, path, host, timeoutMs);
    const key = r.status === 200 ? r.body.trim() : `status ${r.status}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return seen;
}

/** The distinct answers of {@link answerCounts}. */
export async function answerSet(
  port: number,
  path: string,
  host: string,
  count: number,
  timeoutMs = 5000,
): Promise<Set<string>> {
  return new Set((await answerCounts(port, path, host, count, timeoutMs)).keys());
}

/** A test backend: its port, how many requests it is answering now, and a close. */
export interface TestBackend {
  port: number;
  inFlight: () => number;
  close: () => Promise<void>;
}

/** A backend on 127.0.0.1 answering `name` (after `delayMs`, when given). */
export function backend(name: string, delayMs = 0): TestBackend {
  let inFlight = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async () => {
      inFlight++;
      try {
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        return new Response(name);
      } finally {
        inFlight--;
      }
    },
  );
  return { port: server.addr.port, inFlight: () => inFlight, close: () => server.shutdown() };
}

/** A backend that answers each request with the head it received, byte for byte. */
export interface HeadEcho {
  port: number;
  close: () => Promise<void>;
}

/**
 * A raw TCP backend on 127.0.0.1 whose answer body is the request's head as it arrived, so a
 * test sees every header the balancer sent, hop-by-hop ones (`Connection`) included. One
 * request a connection, then it closes; an `Upgrade` request is answered 101 and its head,
 * with the blank line that ends it, sent through the tunnel (see {@link upgradeHead}).
 */
export function headEcho(): HeadEcho {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const answer = async (conn: Deno.Conn) => {
    open.add(conn);
    try {
      const buf = new Uint8Array(16_384);
      let head = "";
      while (!head.includes("\r\n\r\n")) {
        const n = await conn.read(buf);
        if (n === null) return;
        head += new TextDecoder().decode(buf.subarray(0, n));
      }
      const body = new TextEncoder().encode(head.slice(0, head.indexOf("\r\n\r\n")));
      // an upgrade is switched, and the head is the first the tunnel carries back
      await conn.write(new TextEncoder().encode(
        /^upgrade:/im.test(head)
          ? "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
          : `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      ));
      await conn.write(body);
      if (/^upgrade:/im.test(head)) await conn.write(new TextEncoder().encode("\r\n\r\n"));
    } catch {
      /* the balancer went away */
    } finally {
      open.delete(conn);
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) answer(conn);
    } catch { /* closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await accepting;
    },
  };
}

/**
 * Sends an upgrade `request` to 127.0.0.1:`port` and returns the head a {@link headEcho}
 * backend got, read from the tunnel (HAProxy keeps the client's side open after the server
 * closes a tunnel, so the read stops at the head's end, not at the close).
 */
export async function upgradeHead(
  port: number,
  request: string,
  timeoutMs = 5000,
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    await conn.write(new TextEncoder().encode(request));
    let text = "";
    const buf = new Uint8Array(16_384);
    while (text.split("\r\n\r\n").length < 3) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const [status, tunnel] = text.split("\r\n\r\n");
    if (!/^HTTP\/1\.1 101 /.test(status)) throw new Error(`not switched: ${text.slice(0, 200)}`);
    return tunnel;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

/** Resolves once `fn` is true, polling every 100 ms; throws after `ms`. */
export async function eventually(fn: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not within ${ms} ms`);
}

/** Real nginx serving the http file `out`, as `lbsync watch` manages it. */
export interface ManagedNginx {
  /** `-t nginx -o OUT` with a check by `nginx -t` and a reload by `nginx -s reload`. */
  targetArgs: string[];
  stop(): Promise<void>;
}

/**
 * Starts real nginx in `dir` with `out` (which must exist) included in its http context, and
 * `streamOut` in its stream context when given. With `reloadLog`, each reload also appends a
 * line to that file.
 */
export async function startManagedNginx(
  dir: string,
  out: string,
  reloadLog?: string,
  streamOut?: string,
): Promise<ManagedNginx> {
  await Deno.writeTextFile(`${dir}/nginx.conf`, nginxMainConf(dir, out, streamOut));
  const ngx = [requireTool("nginx"), "-p", `${dir}/`, "-c", `${dir}/nginx.conf`];
  const started = await run(ngx);
  if (started.code !== 0) throw new Error(`nginx did not start: ${started.stderr.trim()}`);
  const count = reloadLog ? `echo >> ${reloadLog} && ` : "";
  return {
    targetArgs: [
      "-t",
      "nginx",
      "-o",
      out,
      ...(streamOut ? ["-t", "nginx-stream", "-o", streamOut] : []),
      "--check-cmd",
      `${ngx.join(" ")} -t -q`,
      "--reload-cmd",
      `${count}${ngx.join(" ")} -s reload`,
    ],
    async stop() {
      await run([...ngx, "-s", "stop"]);
      await waitGone(`${dir}/nginx.pid`);
    },
  };
}

/** A balancer started from an lbsync output, with the check and reload commands for it. */
export interface ReloadableBalancer {
  /** `--check-cmd` for lbsync. */
  check: string;
  /** `--reload-cmd` for lbsync; each reload also appends a line to `reloadLog`. */
  reload: string;
  /** `-t TEMPLATE -o OUT --check-cmd ... --reload-cmd ...`: the target for the watch. */
  targetArgs: string[];
  stop(): Promise<void>;
}

/**
 * Starts real nginx or HAProxy (master-worker) from the rendered `out`, and gives the check
 * and reload commands an `lbsync watch` writing `out` uses for it.
 */
export async function startReloadable(
  template: "nginx" | "haproxy",
  out: string,
  reloadLog: string,
  prefix: string[] = [],
): Promise<ReloadableBalancer> {
  const withArgs = (check: string, reload: string, stop: () => Promise<void>) => ({
    check,
    reload,
    stop,
    targetArgs: ["-t", template, "-o", out, "--check-cmd", check, "--reload-cmd", reload],
  });
  if (template === "nginx") {
    const b = await startNginx({ http: await Deno.readTextFile(out) }, prefix);
    const ngx = `${requireTool("nginx")} -p ${b.dir}/ -c ${b.dir}/nginx.conf`;
    return withArgs(
      `cp {} ${b.dir}/lbsync.conf && ${ngx} -t -q`,
      `echo >> ${reloadLog} && ${ngx} -s reload`,
      b.stop,
    );
  }
  const b = await startHaproxy(await Deno.readTextFile(out), prefix);
  return withArgs(
    `${requireTool("haproxy")} -c -f {}`,
    `echo >> ${reloadLog} && cp ${out} ${b.dir}/haproxy.cfg && ` +
      `kill -USR2 $(cat ${b.dir}/haproxy.pid)`,
    b.stop,
  );
}
