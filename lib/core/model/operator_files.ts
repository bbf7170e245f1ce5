/**
 * nginx-proxy's operator file conventions on the model: per-host basic auth from an htpasswd
 * directory, per-host and default includes from a vhost directory. Pure: the shell lists the
 * directories; this decides, per virtual host and route, which file applies.
 *
 * File names come from host names, which come from labels: a name is looked up only among the
 * files the directory holds, and only when it is a valid file name (no `/`, no leading dot),
 * so no label reaches a file outside the directories.
 *
 * @module
 */
import { sha1 } from "../util/sha1.ts";
import type { HttpListener, OperatorFiles, Route, VirtualHost } from "../types.ts";

/** What a host's files are named after: the host, or the SHA-1 of a regex host. */
export function hostFileName(v: Pick<VirtualHost, "host" | "regex">): string {
  return v.regex ? sha1(v.host) : v.host;
}

/** A name that can only be a file in the directory itself. */
const SAFE_NAME = /^[A-Za-z0-9*][A-Za-z0-9*._-]*$/;

/** `dir/name` for `include`: a wildcard's `*` escaped, so nginx does not expand it. */
function includePath(dir: string, name: string): string {
  return `${dir}/${name.replaceAll("*", "\\*")}`;
}

/** The first of `names` that `files` holds, with its version. */
function firstFound(
  files: ReadonlyMap<string, string> | undefined,
  names: string[],
): { name: string; version: string } | undefined {
  for (const name of names) {
    const version = SAFE_NAME.test(name) && !name.includes("..") ? files?.get(name) : undefined;
    if (version !== undefined) return { name, version };
  }
  return undefined;
}

/**
 * The listener with the operator's files applied to each virtual host: the server include
 * (`HOST`, else `default`), and per route the location override (`HOST_SHA1(PATH)_location_override`,
 * for `/` also `HOST_location_override`), the location include (`HOST_SHA1(PATH)_location`,
 * `HOST_location`, else `default_location`) and basic auth (`HOST_SHA1(PATH)`, else `HOST`).
 */
export function withOperatorFiles(listener: HttpListener, files: OperatorFiles): HttpListener {
  return { ...listener, virtualHosts: listener.virtualHosts.map((v) => hostWithFiles(v, files)) };
}

function hostWithFiles(v: VirtualHost, files: OperatorFiles): VirtualHost {
  const name = hostFileName(v);
  const server = files.vhostDir ? firstFound(files.vhost, [name, "default"]) : undefined;
  return {
    ...v,
    ...(server
      ? {
        serverInclude: { path: includePath(files.vhostDir!, server.name), version: server.version },
      }
      : {}),
    routes: v.routes.map((r) => routeWithFiles(r, v, name, files)),
  };
}

function routeWithFiles(r: Route, v: VirtualHost, name: string, files: OperatorFiles): Route {
  const pathHash = sha1(r.path);
  const out: Route = { ...r };
  if (files.vhostDir) {
    // nginx-proxy's override replaces the whole location block: the host's own name stands
    // for its `/` only, and there is no default one
    const override = firstFound(files.vhost, [
      `${name}_${pathHash}_location_override`,
      ...(r.path === "/" ? [`${name}_location_override`] : []),
    ]);
    if (override) {
      out.locationOverride = {
        path: includePath(files.vhostDir, override.name),
        version: override.version,
      };
    }
    const names = [`${name}_${pathHash}_location`, `${name}_location`, "default_location"];
    const found = firstFound(files.vhost, names);
    if (found) {
      out.locationInclude = {
        path: includePath(files.vhostDir, found.name),
        version: found.version,
      };
    }
  }
  if (files.htpasswdDir) {
    const found = firstFound(files.htpasswd, [`${name}_${pathHash}`, name]);
    if (found) {
      const where = v.regex ? "access" : found.name === name ? v.host : `${v.host}${r.path}`;
      out.auth = {
        path: `${files.htpasswdDir}/${found.name}`,
        version: found.version,
        realm: `Restricted ${where}`.replace(/[^A-Za-z0-9 ._~/*-]/g, "_"),
      };
    }
  }
  return out;
}
