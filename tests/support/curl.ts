/**
 * curl against a balancer on 127.0.0.1, for what Deno's fetch cannot show: a refused TLS
 * handshake, and a client certificate per request.
 *
 * @module
 */
import assert from "node:assert/strict";
import { requireTool, run } from "./tools.ts";

/** What curl got for `url`, its host resolved to 127.0.0.1:`port`. */
export interface CurlAnswer {
  /** The status (`200`), or `refused handshake` when TLS did not start. */
  status: string;
  /** The body. */
  body: string;
  /** The `Location` of a redirect, `""` for none. */
  location: string;
}

/**
 * GET `url` (certificates not verified), with the client certificate `client`
 * (`DIR/NAME.crt` and `.key`) and a `Host` header other than the URL's when given; bounded by 5 s.
 */
export async function curl(
  url: string,
  port: number,
  client?: string,
  host?: string,
): Promise<CurlAnswer> {
  const name = new URL(url).hostname;
  const r = await run([
    requireTool("curl"),
    "-s",
    "--insecure",
    "--max-time",
    "5",
    "--resolve",
    `${name}:${port}:127.0.0.1`,
    ...(client ? ["--cert", `${client}.crt`, "--key", `${client}.key`] : []),
    ...(host ? ["-H", `Host: ${host}`] : []),
    "-o",
    "-",
    "-w",
    "\n%{redirect_url}\n%{http_code}",
    url,
  ]);
  // 35: the TLS handshake failed (nginx's ssl_reject_handshake); 7 would be no listener
  if (r.code === 35) return { status: "refused handshake", body: "", location: "" };
  assert.equal(r.code, 0, `curl ${url}: exit ${r.code} ${r.stderr}`);
  const [status, location, ...body] = r.stdout.split("\n").reverse();
  return { status, location, body: body.reverse().join("\n") };
}
