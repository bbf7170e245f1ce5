/**
 * What every lbsync listener refuses from a browser: a web page in the operator's browser
 * must not drive or read lbsync's own servers (a form post to 127.0.0.1, DNS rebinding). One
 * rule for the admin API and the status listener. Pure.
 *
 * @module
 */
import { isLoopback } from "../core/util/grammar.ts";

/** A refusal: the HTTP status and a one-line reason. */
export interface Refusal {
  status: 403 | 421;
  reason: string;
}

/**
 * Why `headers` come from a browser lbsync will not serve, or `undefined`. Any `Origin` is
 * refused (403). Without a bearer token (`authenticated` false), a `Host` must be a loopback
 * name, the listen address, or an IP address literal: a rebound name is refused (421); a
 * rebinding attack needs a name, never an address.
 */
export function refuseBrowser(
  headers: Headers,
  listenHost: string,
  authenticated: boolean,
): Refusal | undefined {
  if (headers.has("origin")) {
    return { status: 403, reason: "requests from web pages (with an Origin header) are refused" };
  }
  if (authenticated) return undefined;
  const host = (headers.get("host") ?? "").toLowerCase().replace(/:\d+$/, "")
    .replace(/^\[(.*)\]$/, "$1");
  if (isLoopback(host) || host === listenHost.toLowerCase() || isAddress(host)) return undefined;
  return { status: 421, reason: `Host ${JSON.stringify(host)} is not this server's address` };
}

function isAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || (host.includes(":") && /^[0-9a-f:.]+$/.test(host));
}
