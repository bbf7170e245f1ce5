/**
 * The model a running watch applied, as its status listener serves it (`GET /model`) and
 * `explain --from-status` and `route --from-status` read it: the fields the reports read
 * ({@link ModelView}), the containers left out (quarantined ones included), the warnings and
 * the watch's default http port. {@link liveModelJson} writes it; {@link parseLiveModel}
 * reads it as untrusted input (it comes over the network). Pure.
 *
 * @module
 */
import { errorMessage, type SettingName, type SkipCode, StatusError } from "./errors.ts";
import { compileHostRegex } from "./util/host_regex.ts";
import { compilePathRegex, pathRegexSource } from "./util/path_regex.ts";
import { isPort } from "./util/grammar.ts";
import { isObject, type Json, parseJson } from "./util/json_access.ts";
import type {
  HttpListenerView,
  ModelView,
  ModelViewResult,
  RouteView,
  ServiceView,
  SkippedContainer,
  VirtualHostView,
} from "./types.ts";

/** Every skip code and setting a hint names, for the check (the types hold them complete). */
const KNOWN_CODES: Record<SkipCode, 1> = {
  "disabled": 1,
  "bad-label": 1,
  "bad-name": 1,
  "bad-id": 1,
  "not-running": 1,
  "unhealthy": 1,
  "not-ready": 1,
  "no-port": 1,
  "no-address": 1,
  "no-listen": 1,
  "retired": 1,
  "conflict": 1,
  "port-in-use": 1,
  "quarantined": 1,
  "unsupported": 1,
};
const KNOWN_SETTINGS: Record<SettingName, 1> = {
  network: 1,
  address: 1,
  includeUnhealthy: 1,
  match: 1,
  matchImage: 1,
};

/** The document's `format`: a change of its shape changes the number. */
export const LIVE_MODEL_FORMAT = "lbsync-model/1";

/** The largest document the status listener sends and a reader accepts, in bytes. */
export const LIVE_MODEL_MAX_BYTES = 64 * 1024 * 1024;

/** A watch's model in force, as the reports read it. */
export interface LiveModel {
  /** The watch's default http port (`--listen`): a route URL without a port goes there. */
  listen: number;
  /** A Swarm read through several managers: the one in use. */
  manager?: string;
  /** The model, the containers left out and the warnings of its last apply. */
  result: ModelViewResult;
}

/**
 * The document of `GET /model`: `live` with only the fields the reports read; a tcp
 * listener names its service instead of repeating it.
 *
 * @example
 * ```ts
 * import { buildModel } from "./model/model.ts";
 * import { liveModelJson, parseLiveModel } from "./live_model.ts";
 * const text = liveModelJson({ listen: 8080, result: buildModel([]) });
 * console.log(parseLiveModel(text).listen); // 8080
 * ```
 */
export function liveModelJson(live: LiveModel): string {
  const { model, skipped, warnings } = live.result;
  return JSON.stringify({
    format: LIVE_MODEL_FORMAT,
    listen: live.listen,
    ...(live.manager === undefined ? {} : { manager: live.manager }),
    model: {
      services: model.services.map((s) => ({
        name: s.name,
        backend: s.backend,
        mode: s.mode,
        listen: s.listen,
        routes: s.routes.map((r) => ({ port: r.port, host: r.host, path: r.path })),
        servers: s.servers.map((v) => ({
          name: v.name,
          id: v.id,
          engine: v.engine,
          endpoint: v.endpoint,
          backup: v.backup,
        })),
      })),
      httpListeners: model.httpListeners.map((l) => ({
        port: l.port,
        virtualHosts: l.virtualHosts.map((v) => ({
          host: v.host,
          wildcard: v.wildcard,
          suffixWildcard: v.suffixWildcard,
          regex: v.regex,
          matchValue: v.matchValue,
          isDefault: v.isDefault,
          httpOn: v.httpOn,
          httpsOn: v.httpsOn,
          redirectToHttps: v.redirectToHttps,
          ...(v.tls ? { tls: { name: v.tls.name } } : {}),
          ...(v.clientCa ? { clientCa: { path: v.clientCa.path, verify: v.clientCa.verify } } : {}),
          ...(v.refusedHttps ? { refusedHttps: true } : {}),
          ...(v.httpsBind ? { httpsBind: { port: v.httpsBind.port } } : {}),
          routes: v.routes.map(routeJson),
        })),
        defaultRoutes: l.defaultRoutes.map(routeJson),
        ...(l.httpsPorts ? { httpsPorts: l.httpsPorts } : {}),
      })),
      tcpListeners: model.tcpListeners.map((l) => ({ port: l.port, service: l.service.name })),
      tlsOn: model.tlsOn,
      unknownHostStatus: model.unknownHostStatus,
      unknownPathStatus: model.unknownPathStatus,
      unknownPathLocation: model.unknownPathLocation,
    },
    skipped: skipped.map((s) => ({
      id: s.id,
      name: s.name,
      engine: s.engine,
      service: s.service,
      code: s.code,
      reason: s.reason,
      ...(s.hint ? { hint: s.hint } : {}),
    })),
    warnings,
  });
}

function routeJson(r: RouteView): RouteView {
  return {
    path: r.path,
    dest: r.dest,
    service: r.service,
    redirectFrom: r.redirectFrom,
    ...(r.auth
      ? { auth: { path: r.auth.path, version: r.auth.version, realm: r.auth.realm } }
      : {}),
    ...(r.locationOverride
      ? { locationOverride: { path: r.locationOverride.path, version: r.locationOverride.version } }
      : {}),
  };
}

/**
 * Reads a `GET /model` document, checking every field the reports read: its type, ports and
 * statuses in range, codes and modes among the known ones, host regexes of the dialect, and
 * every service a route or tcp listener names present (once). Text is escaped where printed.
 *
 * @throws {StatusError} naming the JSON path and what is wrong, e.g.
 *   `$.model.services[0].listen: expected a port (1-65535)`
 */
export function parseLiveModel(text: string): LiveModel {
  let json: unknown;
  try {
    json = parseJson(text);
  } catch (error) {
    throw new StatusError(`not JSON (${errorMessage(error)})`);
  }
  const doc = new Fields(json, "$");
  const format = doc.text("format");
  if (format !== LIVE_MODEL_FORMAT) {
    doc.fail("format", `${JSON.stringify(format)} is not ${LIVE_MODEL_FORMAT}`);
  }
  const m = doc.fields("model");
  const services = m.list("services", serviceOf);
  const byName = new Map(services.map((s) => [s.name, s]));
  if (byName.size < services.length) m.fail("services", "a service name appears twice");
  const named = (f: Fields, key: string): ServiceView => {
    const name = f.text(key);
    return byName.get(name) ?? f.fail(key, `${JSON.stringify(name)} names no service`);
  };
  const route = (f: Fields): RouteView => {
    const auth = f.optional("auth");
    const override = f.optional("locationOverride");
    const regex = pathRegexSource(f.text("path"));
    if (regex !== "") {
      try {
        compilePathRegex(regex);
      } catch (error) {
        f.fail("path", `not a path regex: ${errorMessage(error)}`);
      }
    }
    return {
      path: f.text("path"),
      dest: f.optionalText("dest") ?? "",
      service: named(f, "service").name,
      redirectFrom: f.text("redirectFrom"),
      ...(auth
        ? {
          auth: {
            path: auth.text("path"),
            version: auth.text("version"),
            realm: auth.text("realm"),
          },
        }
        : {}),
      ...(override
        ? { locationOverride: { path: override.text("path"), version: override.text("version") } }
        : {}),
    };
  };
  const model: ModelView = {
    services,
    httpListeners: m.list("httpListeners", (l): HttpListenerView => ({
      port: l.port("port"),
      virtualHosts: l.list("virtualHosts", (v) => virtualHostOf(v, route)),
      defaultRoutes: l.list("defaultRoutes", route),
      ...(l.has("httpsPorts") ? { httpsPorts: l.ports("httpsPorts") } : {}),
    })),
    tcpListeners: m.list(
      "tcpListeners",
      (l) => ({ port: l.port("port"), service: named(l, "service") }),
    ),
    tlsOn: m.boolean("tlsOn"),
    unknownHostStatus: m.integer("unknownHostStatus", 100, 599),
    unknownPathStatus: !m.has("unknownPathStatus") ? 404 : m.integer("unknownPathStatus", 0, 599),
    unknownPathLocation: m.optionalText("unknownPathLocation") ?? "",
  };
  const manager = doc.optionalText("manager");
  return {
    listen: doc.port("listen"),
    ...(manager === undefined ? {} : { manager }),
    result: {
      model,
      skipped: doc.list("skipped", skippedOf),
      warnings: doc.texts("warnings"),
    },
  };
}

function serviceOf(s: Fields): ServiceView {
  return {
    name: s.text("name"),
    backend: s.text("backend"),
    mode: s.oneOf("mode", ["http", "tcp"] as const),
    listen: s.port("listen"),
    routes: s.list(
      "routes",
      (r) => ({ port: r.port("port"), host: r.text("host"), path: r.text("path") }),
    ),
    servers: s.list("servers", (v) => ({
      name: v.text("name"),
      id: v.text("id"),
      engine: v.text("engine"),
      endpoint: v.text("endpoint"),
      backup: v.boolean("backup"),
    })),
  };
}

function virtualHostOf(v: Fields, route: (f: Fields) => RouteView): VirtualHostView {
  const regex = v.boolean("regex");
  const matchValue = v.text("matchValue");
  if (regex) {
    try {
      compileHostRegex(matchValue);
    } catch (error) {
      v.fail("matchValue", `not a host regex: ${errorMessage(error)}`);
    }
  }
  const tls = v.optional("tls");
  const clientCa = v.optional("clientCa");
  const httpsBind = v.optional("httpsBind");
  return {
    host: v.text("host"),
    wildcard: v.boolean("wildcard"),
    suffixWildcard: !v.text("host").startsWith("~") && v.text("host").endsWith(".*"),
    regex,
    matchValue,
    isDefault: v.boolean("isDefault"),
    httpOn: v.boolean("httpOn"),
    httpsOn: v.boolean("httpsOn"),
    redirectToHttps: v.boolean("redirectToHttps"),
    ...(tls ? { tls: { name: tls.text("name") } } : {}),
    ...(clientCa
      ? {
        clientCa: {
          path: clientCa.text("path"),
          verify: clientCa.text("verify") === "optional" ? "optional" as const : "on" as const,
        },
      }
      : {}),
    ...(v.optionalBoolean("refusedHttps") ? { refusedHttps: true } : {}),
    ...(httpsBind ? { httpsBind: { port: httpsBind.port("port") } } : {}),
    routes: v.list("routes", route),
  };
}

function skippedOf(s: Fields): SkippedContainer {
  const hint = s.optional("hint");
  const value = hint?.optionalText("value");
  return {
    id: s.text("id"),
    name: s.text("name"),
    engine: s.text("engine"),
    service: s.text("service"),
    code: s.oneOf("code", Object.keys(KNOWN_CODES) as SkipCode[]),
    reason: s.text("reason"),
    ...(hint
      ? {
        hint: {
          setting: hint.oneOf("setting", Object.keys(KNOWN_SETTINGS) as SettingName[]),
          ...(value === undefined ? {} : { value }),
        },
      }
      : {}),
  };
}

/** A JSON object being read, with its path for the messages. */
class Fields {
  readonly #value: Json;

  constructor(value: unknown, readonly at: string) {
    if (!isObject(value)) throw new StatusError(`${at}: expected an object`);
    this.#value = value;
  }

  /** Throws the error of field `key`. */
  fail(key: string, why: string): never {
    throw new StatusError(`${this.at}.${key}: ${why}`);
  }

  #get<T>(key: string, test: (v: unknown) => v is T, expected: string): T {
    const v = this.#value[key];
    return test(v) ? v : this.fail(key, `expected ${expected}`);
  }

  text(key: string): string {
    return this.#get(key, (v): v is string => typeof v === "string", "a string");
  }

  optionalText(key: string): string | undefined {
    return this.#value[key] === undefined ? undefined : this.text(key);
  }

  optionalBoolean(key: string): boolean | undefined {
    return this.#value[key] === undefined ? undefined : this.boolean(key);
  }

  boolean(key: string): boolean {
    return this.#get(key, (v): v is boolean => typeof v === "boolean", "true or false");
  }

  port(key: string): number {
    return this.#get(key, isPort, "a port (1-65535)");
  }

  ports(key: string): number[] {
    const v = this.#get(key, Array.isArray, "an array");
    return v.map((x, i) => isPort(x) ? x : this.fail(`${key}[${i}]`, "expected a port (1-65535)"));
  }

  integer(key: string, min: number, max: number): number {
    const inRange = (v: unknown): v is number =>
      typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
    return this.#get(key, inRange, `an integer in ${min}-${max}`);
  }

  oneOf<T extends string>(key: string, choices: readonly T[]): T {
    const known = (v: unknown): v is T => (choices as readonly unknown[]).includes(v);
    return this.#get(key, known, `one of ${choices.join(", ")}`);
  }

  fields(key: string): Fields {
    return new Fields(this.#value[key], `${this.at}.${key}`);
  }

  has(key: string): boolean {
    return this.#value[key] !== undefined;
  }

  optional(key: string): Fields | undefined {
    return this.#value[key] === undefined ? undefined : this.fields(key);
  }

  list<T>(key: string, item: (f: Fields) => T): T[] {
    const v = this.#get(key, Array.isArray, "an array");
    return v.map((x, i) => item(new Fields(x, `${this.at}.${key}[${i}]`)));
  }

  texts(key: string): string[] {
    const v = this.#get(key, Array.isArray, "an array");
    return v.map((x, i) =>
      typeof x === "string" ? x : this.fail(`${key}[${i}]`, "expected a string")
    );
  }
}
