/**
 * Listen addresses of lbsync's own servers (status, admin API, DNS): `PORT`, `HOST:PORT` or
 * `[V6]:PORT`. Pure.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";

/**
 * Where to listen: `PORT`, `HOST:PORT` or `[V6]:PORT`; a bare port binds 127.0.0.1.
 *
 * @param what names the address in the error, e.g. `status address` or `--status-listen`
 * @throws {ConfigError} for anything else, or a port outside 1-65535
 */
export function parseListenAddress(
  text: string,
  what: string,
): { hostname: string; port: number } {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) {
    throw new ConfigError(
      `Invalid ${what} ${JSON.stringify(text)}: use PORT or HOST:PORT (e.g. 127.0.0.1:9090)`,
    );
  }
  const host = match[1] || "127.0.0.1";
  return { hostname: host.replace(/^\[(.*)\]$/, "$1"), port };
}
