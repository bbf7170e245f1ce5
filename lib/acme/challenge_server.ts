/**
 * The ACME HTTP-01 challenge server: the balancer sends `/.well-known/acme-challenge/TOKEN`
 * of every HTTP host here (the built-in templates do), and it answers the key authorization
 * of the token while an order waits for it.
 *
 * @module
 */
import { parseListenAddress } from "../core/util/listen_address.ts";

/** Tokens being validated, and where they are served. */
export interface ChallengeServer {
  /** The port it listens on. */
  port: number;
  /** `HOST:PORT` for the balancer. */
  address: string;
  /** Serves `keyAuthorization` for `token` until {@link ChallengeServer.remove}. */
  set(token: string, keyAuthorization: string): void;
  /** Stops serving `token`. */
  remove(token: string): void;
  /** Stops the server. */
  close(): Promise<void>;
}

const PREFIX = "/.well-known/acme-challenge/";

/**
 * Serves challenges on `address` (`PORT` is 127.0.0.1:PORT; 0 picks a free port). Anything
 * but `GET PREFIX<known token>` is 404.
 */
export function serveChallenges(address: string): ChallengeServer {
  const { hostname, port } = address === "0"
    ? { hostname: "127.0.0.1", port: 0 }
    : parseListenAddress(address, "ACME challenge address");
  const tokens = new Map<string, string>();
  const server = Deno.serve({ hostname, port, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    const answer = req.method === "GET" && path.startsWith(PREFIX)
      ? tokens.get(path.slice(PREFIX.length))
      : undefined;
    return answer === undefined
      ? new Response("no such challenge\n", { status: 404 })
      : new Response(answer, { headers: { "content-type": "application/octet-stream" } });
  });
  const bound = server.addr.port;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return {
    port: bound,
    address: `${host}:${bound}`,
    set: (token, keyAuthorization) => tokens.set(token, keyAuthorization),
    remove: (token) => tokens.delete(token),
    close: () => server.shutdown(),
  };
}
