/**
 * `--default-root` (nginx-proxy's `DEFAULT_ROOT`): what a known host answers for a path none of
 * its routes serves: a status (`404`, the default; `418`), a redirect (`301
 * https://$host/app$request_uri`, with nginx's `$host` and `$request_uri`, which HAProxy and
 * `lbsync route` read alike), or `none`: no `location /` at all, for the operator's own in
 * vhost.d (nginx only; HAProxy answers 404). Pure.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";

/** A parsed `--default-root`. */
export interface DefaultRoot {
  /** The status; 0 for `none`. */
  status: number;
  /** For a redirect, the location as nginx writes it; `""` otherwise. */
  location: string;
}

/** nginx-proxy's default: 404. */
export const DEFAULT_ROOT: DefaultRoot = { status: 404, location: "" };

/**
 * Reads a `--default-root` value.
 *
 * @example
 * ```ts
 * import { parseDefaultRoot } from "./default_root.ts";
 * console.log(parseDefaultRoot("301 https://$host/app$request_uri").location); // https://$host/app$request_uri
 * ```
 *
 * @throws {ConfigError} naming the value and the reason
 */
export function parseDefaultRoot(value: string): DefaultRoot {
  const text = value.trim();
  if (text === "none") return { status: 0, location: "" };
  const match = /^([2-5][0-9]{2})(?:\s+(\S+))?$/.exec(text);
  const bad = (why: string) =>
    new ConfigError(`Invalid default root ${JSON.stringify(value)}: ${why}`);
  if (!match) throw bad("expected none, a status (404), or a redirect (301 URL)");
  const status = Number(match[1]);
  // HAProxy answers neither with a body, and nginx's return would send one
  if (status === 204 || status === 304) throw bad(`${status} has no body to answer with`);
  const location = match[2] ?? "";
  const redirect = [301, 302, 303, 307, 308].includes(status);
  if (redirect !== (location !== "")) {
    throw bad(
      redirect
        ? "a redirect needs its URL"
        : "only a redirect (301, 302, 303, 307, 308) takes a URL",
    );
  }
  if (location !== "") {
    // the URL lands in both configs: only what both read literally, and the two variables
    const rest = location.replace(/\$(?:host|request_uri)(?![A-Za-z0-9_])/g, "");
    if (!/^(?:https?:\/\/|\/)/.test(location) || !/^[A-Za-z0-9._~:/?&=+,!*@%-]*$/.test(rest)) {
      throw bad(
        "the URL must start with http://, https:// or /, and use only URL characters, $host and $request_uri (no other $)",
      );
    }
  }
  return { status, location };
}

/** The location as HAProxy's log format writes it. */
export function haproxyLocation(location: string): string {
  return location.replaceAll("%", "%%").replaceAll("$host", "%[var(txn.lbsync_host)]")
    .replaceAll("$request_uri", "%[capture.req.uri]");
}

/** The location a request gets, for `lbsync route` (`host` as normalized, the target as sent). */
export function locationFor(location: string, host: string, requestUri: string): string {
  return location.replaceAll("$host", host).replaceAll("$request_uri", requestUri);
}
