/**
 * wrk's summary, read: requests, non-2xx answers, socket errors. Shared by the benchmarks
 * that put load through a balancer.
 *
 * @module
 */

/** What one wrk run reports. */
export interface WrkSummary {
  /** Requests completed. */
  requests: number;
  /** `Non-2xx or 3xx responses`. */
  non2xx: number;
  /** `Socket errors`: connect, read, write, timeout (0 each when wrk prints none). */
  socket: { connect: number; read: number; write: number; timeout: number };
}

/** Parses wrk's text output. */
export function parseWrk(text: string): WrkSummary {
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0),
    socket: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
    },
  };
}

/** `connect 0, read 2, write 0, timeout 0`, or `0` when there were none. */
export function formatSocketErrors(s: WrkSummary["socket"]): string {
  const total = s.connect + s.read + s.write + s.timeout;
  return total === 0
    ? "0"
    : `connect ${s.connect}, read ${s.read}, write ${s.write}, timeout ${s.timeout}`;
}
