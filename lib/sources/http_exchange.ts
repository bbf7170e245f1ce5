/**
 * What lbsync's HTTP clients share (the Engine API client, the etcd client, the reader of a
 * watch's status listener): a body read within a size limit, and a failed exchange in a few words.
 *
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import { joinBytes } from "../core/util/bytes.ts";

/**
 * Reads a body of at most `limit` bytes as text; `signal` aborts the read (with its reason).
 *
 * @throws the error `fail` makes of the reason (`the answer is over 1 MiB`) when the body is
 *   larger
 */
export async function readBody(
  response: Response,
  limit: number,
  signal: AbortSignal,
  fail: (reason: string) => Error,
): Promise<string> {
  if (!response.body) return "";
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await response.body.cancel().catch(() => {});
    throw fail(`the answer is over ${formatBytes(limit)} (${declared} bytes)`);
  }
  const reader = response.body.getReader();
  const stop = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", stop, { once: true });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (signal.aborted) throw signal.reason;
      if (done) break;
      size += value.length;
      if (size > limit) throw fail(`the answer is over ${formatBytes(limit)}`);
      chunks.push(value);
    }
  } finally {
    signal.removeEventListener("abort", stop);
    await reader.cancel().catch(() => {});
  }
  return new TextDecoder().decode(joinBytes(chunks, size));
}

/**
 * Why a connection or an exchange failed, from Deno's fetch error and its cause:
 * `connection refused`, `host not found`, `the connection closed mid-answer`, ...;
 * `permissionDenied` words a refused socket.
 */
export function describeTransportError(
  error: unknown,
  permissionDenied = "permission denied",
): string {
  const cause = (error as { cause?: unknown })?.cause;
  const text = `${errorMessage(error)} ${cause ? errorMessage(cause) : ""}`;
  const os = /os error (\d+)/.exec(text)?.[1];
  switch (os) {
    case "2":
      return "no such socket";
    case "13":
    case "1":
      return permissionDenied;
    case "111":
      return "connection refused";
    case "104":
      return "connection reset";
    case "110":
      return "timed out";
    case "113":
    case "101":
      return "host unreachable";
  }
  if (/dns error|failed to lookup|name or service not known/i.test(text)) return "host not found";
  if (/certificate|tls|ssl|handshake|UnknownIssuer/i.test(text)) {
    return `TLS failure: ${innermost(cause ?? error).slice(0, 300)}`;
  }
  if (/error reading a body|connection closed|unexpected end|incomplete/i.test(text)) {
    return "the connection closed mid-answer";
  }
  return innermost(cause ?? error).slice(0, 300);
}

/**
 * The last part of a hyper-style message: `error sending request for url (...): client error
 * (Connect): invalid peer certificate: UnknownIssuer` -> `invalid peer certificate: ...`.
 */
function innermost(error: unknown): string {
  return errorMessage(error).replace(/^.*\(Connect\): /, "").replace(
    /^error sending request for url \([^)]*\): /,
    "",
  );
}

/** A duration for people: `10 s`, `250 ms`. */
export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** A size for people: `1 MiB`, `100 bytes`. */
export function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / 1024 / 1024} MiB` : `${n} bytes`;
}
