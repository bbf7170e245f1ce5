/**
 * The edits the admin API makes to a config file's `services`: put or delete a static
 * service, put or delete one of its servers. Pure: a parsed config document in, a new one
 * out, every value validated like the config file; a bad request is an {@link AdminError}
 * with its HTTP status.
 *
 * @module
 */
import { errorMessage, LbsyncError } from "../../core/errors.ts";
import { parseName, parsePort } from "../../core/util/grammar.ts";
import { isObject } from "../../core/util/json_access.ts";
import { parseStaticServer, parseStaticService } from "../../core/input/static_services.ts";

/** A request the admin API refuses: the HTTP status and a one-line reason. */
export class AdminError extends LbsyncError {
  /** @param status HTTP status, @param message one line naming what is wrong */
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A parsed config file: a JSON object. */
export type ConfigDocument = Record<string, unknown>;

const badRequest = (path: string, why: string) => new AdminError(400, `${path}: ${why}`);

/** The static services of a document, as written in it. */
export function servicesOf(doc: ConfigDocument): Record<string, unknown>[] {
  const services = doc.services ?? [];
  if (!Array.isArray(services) || !services.every(isObject)) {
    throw new AdminError(409, "the config file's services are not an array of objects");
  }
  return services as Record<string, unknown>[];
}

/** Validates a service name from the URL. */
export function serviceName(raw: string): string {
  try {
    return parseName(decodeURIComponent(raw));
  } catch (error) {
    throw new AdminError(400, `service name ${JSON.stringify(raw)}: ${errorMessage(error)}`);
  }
}

/**
 * Puts service `name` (replacing one of that name): `body` has the shape of an entry of the
 * config file's `services`; its `name`, if given, must be `name`.
 */
export function putService(doc: ConfigDocument, name: string, body: unknown): ConfigDocument {
  const entry = isObject(body) && body.name === undefined ? { name, ...body } : body;
  const service = parseStaticService(entry, "$", badRequest);
  if (service.name !== name) {
    throw badRequest("$.name", `${JSON.stringify(service.name)} is not the service of the URL`);
  }
  const services = servicesOf(doc).filter((s) => s.name !== name);
  return { ...doc, services: [...services, entry as Record<string, unknown>] };
}

/** Deletes service `name`. */
export function deleteService(doc: ConfigDocument, name: string): ConfigDocument {
  const services = servicesOf(doc);
  if (!services.some((s) => s.name === name)) throw notFound(name);
  return { ...doc, services: services.filter((s) => s.name !== name) };
}

/**
 * Puts server `HOST-PORT` of service `name` (replacing the same host and port): `body` has
 * the shape of an entry of the service's `servers`; host and port come from the URL.
 */
export function putServer(
  doc: ConfigDocument,
  name: string,
  hostPort: string,
  body: unknown,
): ConfigDocument {
  const { host, port } = splitHostPort(hostPort);
  if (!isObject(body)) throw badRequest("$", "expected an object");
  const entry = { host, port, ...body };
  const server = parseStaticServer(entry, "$", badRequest);
  const url = parseStaticServer({ host, port }, "$", badRequest);
  if (server.host !== url.host || server.port !== url.port) {
    throw badRequest("$", `host and port must be those of the URL (${hostPort})`);
  }
  return editServers(doc, name, (servers) => [
    ...servers.filter((s) => !sameServer(s, url.host, url.port)),
    entry,
  ]);
}

/** Deletes server `HOST-PORT` of service `name`. */
export function deleteServer(doc: ConfigDocument, name: string, hostPort: string): ConfigDocument {
  const { host, port } = splitHostPort(hostPort);
  const url = parseStaticServer({ host, port }, "$", badRequest);
  return editServers(doc, name, (servers) => {
    const kept = servers.filter((s) => !sameServer(s, url.host, url.port));
    if (kept.length === servers.length) {
      throw new AdminError(404, `service ${name} has no server ${hostPort}`);
    }
    return kept;
  });
}

function editServers(
  doc: ConfigDocument,
  name: string,
  edit: (servers: Record<string, unknown>[]) => Record<string, unknown>[],
): ConfigDocument {
  const services = servicesOf(doc);
  const at = services.findIndex((s) => s.name === name);
  if (at < 0) throw notFound(name);
  const servers = Array.isArray(services[at].servers) ? services[at].servers as [] : [];
  const next = [...services];
  next[at] = { ...services[at], servers: edit(servers.filter(isObject)) };
  return { ...doc, services: next };
}

function sameServer(entry: Record<string, unknown>, host: string, port: number): boolean {
  return String(entry.host).toLowerCase() === host && Number(entry.port) === port;
}

/** `HOST-PORT` from the URL: the port follows the last `-`. */
function splitHostPort(raw: string): { host: string; port: number } {
  let text = raw;
  try {
    text = decodeURIComponent(raw);
    const at = text.lastIndexOf("-");
    if (at <= 0) throw new Error("expected HOST-PORT, e.g. 10.0.0.9-8080");
    return { host: text.slice(0, at), port: parsePort(text.slice(at + 1)) };
  } catch (error) {
    throw new AdminError(400, `server ${JSON.stringify(text)}: ${errorMessage(error)}`);
  }
}

function notFound(name: string): AdminError {
  return new AdminError(404, `no static service ${name}`);
}
