/**
 * `--admin-listen ADDR`: an HTTP API over the static services of the config file, or of the
 * store with `--store` (`store_services.ts`).
 * `GET /services`, `GET|PUT|DELETE /services/{name}`,
 * `PUT|DELETE /services/{name}/servers/{host}-{port}`. Each change is validated, kept (the
 * config file written atomically, or a store transaction) and applied through the watcher; an
 * apply that fails is undone and answers 422. Requests run one at a time; a bearer token guards
 * them.
 *
 * @module
 */
import { refuseBrowser } from "../browser_guard.ts";
import { joinBytes } from "../../core/util/bytes.ts";
import { ConfigError, errorMessage } from "../../core/errors.ts";
import { isObject, parseJson } from "../../core/util/json_access.ts";
import { fileServices, type ServiceBackend } from "./file_services.ts";
import { parseListenAddress } from "../../core/util/listen_address.ts";
import { isLoopback } from "../../core/util/grammar.ts";
import {
  AdminError,
  type ConfigDocument,
  deleteServer,
  deleteService,
  putServer,
  putService,
  serviceName,
  servicesOf,
} from "./config_edits.ts";

/** Settings of {@link serveAdmin}. */
export interface AdminSettings {
  /** `PORT` (binds 127.0.0.1) or `HOST:PORT`. */
  address: string;
  /** The bearer token every request must carry; none: no check (loopback only). */
  token?: string;
  /** The config file whose `services` the API edits (unless `backend` is given). */
  configPath?: string;
  /** Applies the config file now; resolves with the reason when the apply failed. */
  apply(): Promise<string | undefined>;
  /** Where the services live when not in the config file (`--store`). */
  backend?: ServiceBackend;
}

const MAX_BODY = 64 * 1024;
/** How long a client may take to send its body. */
const BODY_TIMEOUT_MS = 10_000;
const ROUTE = /^\/services(?:\/([^/]+)(?:\/servers\/([^/]+))?)?$|^\/$/;

/**
 * Serves the admin API until `signal` aborts. Returns the bound port.
 *
 * @throws {ConfigError} for an address that is not loopback when there is no token
 */
export function serveAdmin(
  settings: AdminSettings,
  signal: AbortSignal,
): { port: number; finished: Promise<void> } {
  const { hostname, port } = parseListenAddress(settings.address, "admin API address");
  if (settings.token === undefined && !isLoopback(hostname)) {
    throw new ConfigError(
      `Refusing to serve the admin API on ${settings.address} without a token: only a loopback address may go without one`,
    );
  }
  if (settings.backend === undefined && settings.configPath === undefined) {
    throw new ConfigError("The admin API needs a config file or a store to keep its changes in");
  }
  const backend = settings.backend ?? fileServices(settings.configPath!, settings.apply);
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => {});
    return run;
  };
  const server = Deno.serve({ hostname, port, signal, onListen() {} }, async (req) => {
    try {
      refuseBrowsers(req, hostname, settings.token !== undefined);
      if (settings.token !== undefined && !authorized(req, settings.token)) {
        throw new AdminError(401, "missing or wrong bearer token");
      }
      // the body is read before the request joins the queue: a slow client holds only itself
      const body = req.method === "PUT" ? await readJson(req) : undefined;
      return await serialized(() => route(req, body, backend));
    } catch (error) {
      const status = error instanceof AdminError ? error.status : 500;
      return Response.json({ error: errorMessage(error) }, {
        status,
        headers: status === 401 ? { "www-authenticate": "Bearer" } : {},
      });
    }
  });
  return { port: server.addr.port, finished: server.finished };
}

async function route(
  req: Request,
  body: unknown,
  backend: ServiceBackend,
): Promise<Response> {
  const match = ROUTE.exec(new URL(req.url).pathname);
  if (!match) {
    throw new AdminError(
      404,
      "not found: /services, /services/{name}, /services/{name}/servers/{host}-{port}",
    );
  }
  const [, rawName, rawServer] = match;
  const name = rawName === undefined ? undefined : serviceName(rawName);
  const method = req.method;
  if (method === "GET") {
    // GET / (the REST balancer's whole configuration) is GET /services
    const services = servicesOf(await backend.read());
    if (name === undefined) return Response.json({ services });
    const service = services.find((s) => s.name === name);
    if (!service) throw new AdminError(404, `no static service ${name}`);
    if (rawServer === undefined) return Response.json(service);
    return Response.json(findServer(service, rawServer));
  }
  if (name === undefined) throw new AdminError(405, "use GET on / and /services");
  const edit = editOf(method, name, rawServer);
  const doc = await backend.change((d) => edit(d, body));
  const service = servicesOf(doc).find((s) => s.name === name);
  return service ? Response.json(service) : new Response(null, { status: 204 });
}

/** The edit a PUT or DELETE makes to the service `name` (or to one of its servers). */
/** The server `HOST-PORT` of a service as the config file has it, or 404. */
function findServer(service: Record<string, unknown>, raw: string): unknown {
  const servers = Array.isArray(service.servers) ? service.servers : [];
  const wanted = decodeOr(raw);
  const found = servers.find((s) =>
    isObject(s) && `${String(s.host).toLowerCase()}-${s.port}` === wanted
  );
  if (!found) throw new AdminError(404, `service ${service.name} has no server ${raw}`);
  return found;
}

function decodeOr(raw: string): string {
  try {
    return decodeURIComponent(raw).toLowerCase();
  } catch {
    throw new AdminError(400, `server ${JSON.stringify(raw)}: a bad % escape`);
  }
}

function editOf(
  method: string,
  name: string,
  server: string | undefined,
): (doc: ConfigDocument, body: unknown) => ConfigDocument {
  if (method === "PUT") {
    return server === undefined
      ? (doc, body) => putService(doc, name, body)
      : (doc, body) => putServer(doc, name, server, body);
  }
  if (method === "DELETE") {
    return server === undefined
      ? (doc) => deleteService(doc, name)
      : (doc) => deleteServer(doc, name, server);
  }
  throw new AdminError(405, `use GET, PUT or DELETE, not ${method}`);
}

/** The request body as JSON, at most 64 KiB, read within {@link BODY_TIMEOUT_MS}. */
async function readJson(req: Request): Promise<unknown> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = (req.body ?? new ReadableStream<Uint8Array>()).getReader();
  const deadline = Date.now() + BODY_TIMEOUT_MS;
  while (true) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), Math.max(0, deadline - Date.now()));
    });
    const next = await Promise.race([reader.read(), late]).finally(() => clearTimeout(timer));
    if (next === "late") {
      reader.cancel().catch(() => {});
      throw new AdminError(408, `body not received within ${BODY_TIMEOUT_MS / 1000} s`);
    }
    if (next.done) break;
    size += next.value.length;
    if (size > MAX_BODY) throw new AdminError(413, `body larger than ${MAX_BODY} bytes`);
    chunks.push(next.value);
  }
  const text = new TextDecoder().decode(joinBytes(chunks, size));
  if (text.trim() === "") return {}; // an empty body: nothing to change but the URL's
  try {
    return parseJson(text);
  } catch (error) {
    throw new AdminError(400, `body is not valid JSON (${errorMessage(error)})`);
  }
}

/** Refuses what a browser could send (see `browser_guard.ts`). */
function refuseBrowsers(req: Request, listenHost: string, hasToken: boolean): void {
  const refusal = refuseBrowser(req.headers, listenHost, hasToken);
  if (refusal) throw new AdminError(refusal.status, refusal.reason);
}

/** `Authorization: Bearer TOKEN` (the scheme in any case), compared in constant time. */
function authorized(req: Request, token: string): boolean {
  const header = req.headers.get("authorization") ?? "";
  const space = header.indexOf(" ");
  const scheme = space < 0 ? "" : header.slice(0, space).toLowerCase();
  const given = new TextEncoder().encode(scheme === "bearer" ? header.slice(space + 1).trim() : "");
  const wanted = new TextEncoder().encode(token);
  let diff = given.length ^ wanted.length;
  for (let i = 0; i < wanted.length; i++) diff |= wanted[i] ^ (given[i] ?? 0);
  return diff === 0;
}
