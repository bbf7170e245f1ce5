/**
 * After a reload: does the balancer run the new file? A reload command can exit 0 and change
 * nothing (nginx keeps its old configuration when a new port cannot be bound; a failed
 * HAProxy master-worker reload is silent). The built-in templates serve the generation of the
 * file (`GENERATION_HOST`) to loopback clients; this asks for it until it is the new one.
 *
 * @module
 */
import { GENERATION_HOST } from "../core/util/generation.ts";
import { errorMessage } from "../core/errors.ts";
import type { Model } from "../core/types.ts";

/** Where the balancer serves its generation. */
export interface GenerationAddress {
  /** Address to connect to (loopback unless the balancer listens on one address only). */
  hostname: string;
  /** The balancer's default http port. */
  port: number;
  /** The port takes a PROXY header first (`--proxy-protocol`): lbsync sends `PROXY UNKNOWN`. */
  proxyProtocol?: boolean;
}

/**
 * What the balancer said: `confirmed` (it runs the new file), `stale` (it still runs another
 * generation: the reload did not take), `unconfirmed` (no generation could be read: no
 * answer, refused, not served; nothing is known).
 */
export type ConfirmOutcome =
  | { kind: "confirmed" }
  | { kind: "stale"; running: string }
  | { kind: "unconfirmed"; reason: string };

/** Reads the generation a balancer serves; tests may pass their own. */
export type GenerationReader = (at: GenerationAddress, timeoutMs: number) => Promise<string>;

/**
 * Asks `at` for its generation every 50 ms until it is `expected` or `timeoutMs` passed.
 * Only a generation read and found different is evidence of a failed reload (`stale`). When
 * nothing there serves a generation, it gives up at once, or after a second when the reload
 * binds that port now (`binding`).
 * Confirmed takes {@link CONFIRMATIONS} answers in a row on fresh connections, 25 ms apart:
 * during a reload the old workers still accept connections for a moment, answering the old
 * one (on a loaded machine a request or two may still reach them after that).
 *
 * @example
 * ```ts
 * import { confirmGeneration } from "./confirm_reload.ts";
 * const read = () => Promise.resolve("0123456789abcdef");
 * const outcome = await confirmGeneration("0123456789abcdef", { hostname: "127.0.0.1", port: 80 }, 100, read);
 * console.log(outcome.kind); // confirmed
 * ```
 */
export async function confirmGeneration(
  expected: string,
  at: GenerationAddress,
  timeoutMs: number,
  read: GenerationReader = readGenerationOverHttp,
  binding = false,
): Promise<ConfirmOutcome> {
  const started = performance.now();
  const deadline = started + timeoutMs;
  let last: ConfirmOutcome = { kind: "unconfirmed", reason: "no answer" };
  let inARow = 0;
  let sawGeneration = false;
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const left = deadline - performance.now();
    try {
      const running = await read(at, Math.max(50, Math.min(1000, left)));
      inARow = running === expected ? inARow + 1 : 0;
      sawGeneration ||= /^[0-9a-f]{16}$/.test(running);
      if (inARow >= CONFIRMATIONS) return { kind: "confirmed" };
      if (inARow > 0) {
        // spread the confirmations: an old worker takes connections until it handles QUIT
        await new Promise((r) => setTimeout(r, 25));
        continue;
      }
      last = /^[0-9a-f]{16}$/.test(running)
        ? { kind: "stale", running }
        : { kind: "unconfirmed", reason: `answered ${JSON.stringify(running.slice(0, 40))}` };
    } catch (error) {
      last = { kind: "unconfirmed", reason: errorMessage(error) };
    }
    // nothing there serves a generation (refused, another server): nothing to wait for, and
    // the loop must not wait on it (a balancer that serves one answers at once, with the old
    // one until the reload takes; a custom template or another reload command serves none),
    // unless the reload binds the port now (`binding`): then for a while
    if (!sawGeneration && (!binding || performance.now() - started > BINDING_MS)) break;
    if (performance.now() + 50 >= deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return last;
}

/** How long a reload that binds a new port may take to answer there. */
const BINDING_MS = 1000;

/** Answers in a row that confirm a generation. */
export const CONFIRMATIONS = 3;

/**
 * `GET /` with `Host: GENERATION_HOST` on a fresh connection; the body of a 200. Behind
 * `proxyProtocol` the request follows `PROXY UNKNOWN`, which tells the balancer to take the
 * connection's own addresses (loopback, which it serves the generation to).
 */
export async function readGenerationOverHttp(
  at: GenerationAddress,
  timeoutMs: number,
): Promise<string> {
  const conn = await withTimeout(
    Deno.connect({ hostname: at.hostname, port: at.port }),
    timeoutMs,
    `connect to ${at.hostname}:${at.port}`,
  );
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    await conn.write(
      new TextEncoder().encode(
        `${
          at.proxyProtocol ? "PROXY UNKNOWN\r\n" : ""
        }GET / HTTP/1.0\r\nHost: ${GENERATION_HOST}\r\n\r\n`,
      ),
    );
    const text = await new Response(conn.readable).text();
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
    if (status !== "200") throw new Error(`status ${status ?? "none"}`);
    return text.slice(text.indexOf("\r\n\r\n") + 4).trim();
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer or the peer */ }
  }
}

function withTimeout<T extends Deno.Conn>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer)).then(
    (conn) => conn,
    (error) => {
      promise.then((conn) => conn.close(), () => {});
      throw error;
    },
  );
}

/**
 * The ports an nginx or HAProxy configuration listens on (`listen [ADDR:]PORT`,
 * `bind [ADDR]:PORT`): to tell which new port a balancer may have failed to bind.
 */
export function listenPortsOf(text: string): Set<number> {
  const ports = new Set<number>();
  for (const m of text.matchAll(/^\s*(?:listen\s+(?:\S*:)?|bind\s+\S*:)(\d{1,5})\b/gm)) {
    ports.add(Number(m[1]));
  }
  return ports;
}

/**
 * Why a balancer may have refused a new file: each port the new text listens on that the old
 * did not and that something else holds now. Empty when nothing is known.
 */
export function busyNewPorts(
  before: string,
  after: string,
  hostname: string | undefined,
  probe: (port: number, hostname: string | undefined) => boolean = portInUse,
): number[] {
  const old = listenPortsOf(before);
  return [...listenPortsOf(after)].filter((p) => !old.has(p) && probe(p, hostname)).sort((a, b) =>
    a - b
  );
}

/**
 * The probe lbsync runs before applying, when it reloads a balancer on this host: each port
 * the model listens on, other than `defaultPort` and those the live files already listen on
 * (the balancer holds those itself), that something else holds.
 */
export function localPortProbe(
  liveTexts: string[],
  defaultPort: number,
  hostname: string | undefined,
  probe: (port: number, hostname: string | undefined) => boolean = portInUse,
): (model: Model) => ReadonlyMap<number, string> {
  const live = new Set(liveTexts.flatMap((text) => [...listenPortsOf(text)]));
  return (model) => {
    const ports = [...model.httpListeners, ...model.tcpListeners].map((l) => l.port);
    const busy = new Map<number, string>();
    for (const port of ports) {
      if (port === defaultPort || live.has(port) || busy.has(port)) continue;
      if (probe(port, hostname)) {
        busy.set(port, `another process on this host (port ${port} is in use)`);
      }
    }
    return busy;
  };
}

/** True when binding `port` fails because something holds it (unknown: false). */
export function portInUse(port: number, hostname = "0.0.0.0"): boolean {
  try {
    Deno.listen({ hostname, port }).close();
    return false;
  } catch (error) {
    return error instanceof Deno.errors.AddrInUse;
  }
}
