/**
 * A small Docker Engine API client on Deno's own sockets: unix sockets, plain TCP and TLS with
 * client certificates (`Deno.connect`, `Deno.connectTls`), one HTTP/1.1 exchange per
 * connection (./http1.ts). Every exchange is bounded: the connection, the answer's head and
 * body share one deadline, a body has a size limit, and the event stream's lines have a length
 * limit; a caller's signal aborts any of them at once.
 *
 * API versions: a request goes to the path the engine serves by default (its own version)
 * until the first answer's `Api-Version` header names it; later requests pin the lower of
 * that and {@link NEWEST_KNOWN_API} (`DOCKER_API_VERSION` pins from the start).
 *
 * @module
 */
import { ConfigError, fileErrorReason } from "../core/errors.ts";
import type { DockerEndpoint } from "./docker_endpoint.ts";
import { isObject, parseJson } from "../core/util/json_access.ts";
import { joinBytes } from "../core/util/bytes.ts";
import { describeTransportError, formatBytes, formatMs } from "./http_exchange.ts";
import { exchange, type Http1Answer, HttpExchangeError, readAllChunks } from "./http1.ts";
import { type Deadline, deadline } from "./deadline.ts";
import { DEFAULTS } from "../core/defaults.ts";

/** The newest Engine API version whose answers lbsync knows. */
export const NEWEST_KNOWN_API = "1.47";

/** Limits of every exchange with an engine. */
export interface EngineLimits {
  /** Deadline of one request, headers and body together, in ms (default 10 s). */
  timeoutMs: number;
  /** Largest body read, in bytes (default 128 MiB). */
  maxBodyBytes: number;
  /** Longest line of the event stream, in bytes (default 1 MiB). */
  maxEventLineBytes: number;
}

/** The limits used where none are given. */
export const DEFAULT_ENGINE_LIMITS: EngineLimits = {
  timeoutMs: DEFAULTS.dockerTimeoutMs,
  maxBodyBytes: 128 * 1024 * 1024,
  maxEventLineBytes: 1024 * 1024,
};

/**
 * A request that failed: `status` when the engine answered with an error, and `reason`, a
 * few words for people (`no such socket`, `timed out after 10 s`, `engine answered 404: ...`).
 */
export class EngineRequestError extends Error {
  /** Creates the error; the message is `reason`. */
  constructor(
    /** The cause in a few words. */
    readonly reason: string,
    /** The engine's HTTP status, when it answered with an error. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
    this.name = "EngineRequestError";
  }
}

/** EngineQuery parameters; objects are sent as JSON (Docker's `filters`). */
export type EngineQuery = Record<
  string,
  string | number | boolean | Record<string, unknown> | undefined
>;

/** One Engine API endpoint; its TLS files are read on first use. */
export class EngineClient {
  #tls: Promise<TlsPem> | undefined;
  #version: string | undefined;
  #server = "";
  /** The bounds of every exchange, defaults filled in. */
  readonly limits: EngineLimits;

  /** A client of `endpoint`; nothing connects until the first request. */
  constructor(
    /** The engine. */
    readonly endpoint: DockerEndpoint,
    limits: Partial<EngineLimits> = {},
  ) {
    this.limits = { ...DEFAULT_ENGINE_LIMITS, ...limits };
    this.#version = endpoint.apiVersion;
  }

  /**
   * `GET path` and its JSON answer.
   *
   * @throws {EngineRequestError} for a failed exchange or an error answer
   */
  async getJson(path: string, query: EngineQuery = {}, signal?: AbortSignal): Promise<unknown> {
    const body = await this.request("GET", path, query, signal);
    try {
      return parseJson(body);
    } catch (error) {
      throw new EngineRequestError(
        `the answer to ${path} is not JSON (${body.length} bytes)`,
        undefined,
        { cause: error },
      );
    }
  }

  /**
   * One request; resolves with the body of a 2xx or 304 answer.
   *
   * @throws {EngineRequestError} for a failed exchange or an error answer
   */
  async request(
    method: "GET" | "POST",
    path: string,
    query: EngineQuery = {},
    signal?: AbortSignal,
  ): Promise<string> {
    const deadline = this.#deadline(signal);
    try {
      const response = await this.#fetch(method, path, query, deadline.signal);
      const body = await this.#readBody(response);
      if (isOk(response) || response.status === 304) return body;
      throw new EngineRequestError(
        describeStatus(response.status, body),
        response.status,
      );
    } catch (error) {
      throw this.#failure(error, deadline.signal);
    } finally {
      deadline.clear();
    }
  }

  /**
   * Follows `GET /events` until the stream ends, `signal` aborts, or a line breaks a limit;
   * yields each event object (lines that are not JSON objects are skipped). The deadline
   * covers the answer's headers only: a quiet stream is not a broken one. `opened` is called
   * once the engine accepted the stream.
   *
   * @throws {EngineRequestError} when the stream cannot start, breaks, or has a line over
   *   `maxEventLineBytes`
   */
  async *events(
    query: EngineQuery,
    signal: AbortSignal,
    opened: () => void = () => {},
  ): AsyncGenerator<Record<string, unknown>> {
    const headers = this.#deadline(signal);
    let response: Http1Answer;
    try {
      response = await this.#fetch("GET", "/events", query, headers.signal);
      if (!isOk(response)) {
        const body = await this.#readBody(response);
        throw new EngineRequestError(describeStatus(response.status, body), response.status);
      }
    } catch (error) {
      throw this.#failure(error, headers.signal);
    } finally {
      headers.clear();
    }
    opened();
    const body = response.body;
    const lines = new LineSplitter(this.limits.maxEventLineBytes);
    const stop = () => body.cancel();
    signal.addEventListener("abort", stop, { once: true });
    try {
      while (true) {
        let chunk: Uint8Array | null;
        try {
          chunk = await body.read();
        } catch (error) {
          if (signal.aborted) return;
          throw this.#failure(error, signal);
        }
        if (chunk === null) return;
        for (const line of lines.push(chunk)) {
          const event = parseEventLine(line);
          if (event) yield event;
        }
      }
    } finally {
      signal.removeEventListener("abort", stop);
      body.cancel();
    }
  }

  /** The engine's `Server` header, once it answered (`Docker/20.10.24 (linux)`, `Libpod/4.3.1`). */
  get server(): string {
    return this.#server;
  }

  /**
   * Ends the client's use of its endpoint. Each exchange has its own connection, closed with
   * its answer, so nothing is held between requests; kept for callers that close clients.
   */
  close(): Promise<void> {
    return Promise.resolve();
  }

  async #fetch(
    method: string,
    path: string,
    query: EngineQuery,
    signal: AbortSignal,
  ): Promise<Http1Answer> {
    const conn = await this.#connect(signal);
    const e = this.endpoint;
    const host = e.socketPath
      ? "docker"
      : `${e.host!.includes(":") ? `[${e.host}]` : e.host}:${e.port}`;
    const response = await exchange(
      conn,
      { method, target: this.#target(path, query), host },
      signal,
    );
    this.#server ||= response.headers.get("server") ?? "";
    const version = response.headers.get("api-version");
    if (this.#version === undefined && version && /^\d+\.\d+$/.test(version)) {
      this.#version = olderVersion(version, NEWEST_KNOWN_API);
    }
    return response;
  }

  /** A connection to the engine, or the signal's reason when it aborts first. */
  async #connect(signal: AbortSignal): Promise<Deno.Conn> {
    const e = this.endpoint;
    let opening: Promise<Deno.Conn>;
    if (e.socketPath) opening = Deno.connect({ transport: "unix", path: e.socketPath });
    else if (e.protocol !== "https") opening = Deno.connect({ hostname: e.host!, port: e.port! });
    else {
      this.#tls ??= readTls(e);
      const tls = await this.#tls;
      opening = Deno.connectTls({ hostname: e.host!, port: e.port!, ...tls }).then(async (conn) => {
        await conn.handshake();
        return conn;
      });
    }
    return await untilAborted(opening, signal);
  }

  /** The body of an answer, within the size limit. */
  async #readBody(response: Http1Answer): Promise<string> {
    const limit = this.limits.maxBodyBytes;
    if ((response.contentLength ?? 0) > limit) {
      response.body.cancel();
      throw engineError(
        `the answer is over ${formatBytes(limit)} (${response.contentLength} bytes)`,
      );
    }
    const bytes = await readAllChunks(
      response.body,
      limit,
      () => engineError(`the answer is over ${formatBytes(limit)}`),
    );
    return decoder.decode(bytes);
  }

  #target(path: string, query: EngineQuery): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      params.set(key, typeof value === "object" ? JSON.stringify(value) : String(value));
    }
    const search = params.size > 0 ? `?${params}` : "";
    return `${this.#version ? `/v${this.#version}` : ""}${path}${search}`;
  }

  /** A signal that aborts at the deadline or with `outer`; `clear()` stops the timer. */
  #deadline(outer?: AbortSignal): Deadline {
    const ms = this.limits.timeoutMs;
    return deadline(ms, outer, () => new EngineRequestError(`timed out after ${formatMs(ms)}`));
  }

  #failure(error: unknown, signal: AbortSignal): Error {
    if (error instanceof EngineRequestError || error instanceof ConfigError) return error;
    if (signal.aborted) {
      const reason = signal.reason;
      return reason instanceof EngineRequestError
        ? reason
        : new EngineRequestError("stopped", undefined, { cause: error });
    }
    const reason = error instanceof HttpExchangeError
      ? error.message
      : describeTransportError(error, PERMISSION_DENIED);
    return new EngineRequestError(reason, undefined, { cause: error });
  }
}

/**
 * Splits a byte stream into lines without holding more than `limit` bytes of one line:
 * chunks are kept as they came and joined once per line.
 */
export class LineSplitter {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;

  /** A splitter whose lines may be at most `limit` bytes. */
  constructor(readonly limit: number) {}

  /**
   * The complete lines that `chunk` ends, without their newline.
   *
   * @throws {EngineRequestError} when a line grows over the limit
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const lines: Uint8Array[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      this.#take(chunk.subarray(start, nl));
      lines.push(this.#join());
      start = nl + 1;
    }
    if (start < chunk.length) this.#take(chunk.subarray(start));
    return lines;
  }

  #take(part: Uint8Array): void {
    this.#pendingBytes += part.length;
    if (this.#pendingBytes > this.limit) {
      this.#pending = [];
      this.#pendingBytes = 0;
      throw new EngineRequestError(`an event line is over ${formatBytes(this.limit)}`);
    }
    if (part.length > 0) this.#pending.push(part.slice());
  }

  #join(): Uint8Array {
    const line = joinBytes(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    return line;
  }
}

const decoder = new TextDecoder();

function parseEventLine(line: Uint8Array): Record<string, unknown> | undefined {
  const text = decoder.decode(line).trim();
  if (!text) return undefined;
  try {
    const value = parseJson(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined; // a malformed line: the next resync catches whatever it meant
  }
}

/** An answer with a 2xx status. */
function isOk(response: Http1Answer): boolean {
  return response.status >= 200 && response.status < 300;
}

/**
 * `opening`, or the signal's reason when it aborts first; a connection that opens after that
 * is closed.
 */
function untilAborted(opening: Promise<Deno.Conn>, signal: AbortSignal): Promise<Deno.Conn> {
  if (signal.aborted) {
    opening.then((conn) => conn.close(), () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    const abort = () => {
      opening.then((conn) => conn.close(), () => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", abort, { once: true });
    opening.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

/** The PEM texts of an endpoint's TLS files, as `Deno.connectTls` takes them. */
interface TlsPem {
  caCerts?: string[];
  cert?: string;
  key?: string;
}

async function readTls(endpoint: DockerEndpoint): Promise<TlsPem> {
  const out: { ca?: string; cert?: string; key?: string } = {};
  for (const kind of ["ca", "cert", "key"] as const) {
    const path = endpoint.tls?.[kind];
    if (!path) continue;
    try {
      out[kind] = await Deno.readTextFile(path);
    } catch (error) {
      const why = fileErrorReason(error);
      throw new ConfigError(`Cannot read TLS ${kind} ${path} for ${endpoint.url}: ${why}`, {
        cause: error,
      });
    }
  }
  return {
    ...(out.ca ? { caCerts: [out.ca] } : {}),
    ...(out.cert && out.key ? { cert: out.cert, key: out.key } : {}),
  };
}

/** The engine's error answer in a few words. */
function describeStatus(status: number, body: string): string {
  let detail = body.trim();
  try {
    const message = JSON.parse(body)?.message;
    if (typeof message === "string") detail = message;
  } catch {
    // a plain-text answer
  }
  detail = detail.replace(/\s*\n\s*/g, " ").slice(0, 300);
  if (/HTTP request to an HTTPS server/i.test(detail)) {
    return "the engine requires TLS: give the endpoint a CA, client certificate and key (DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH)";
  }
  if (/client version .* is too (new|old)|API version/i.test(detail)) {
    return `API version not supported: ${detail}`;
  }
  return `engine answered ${status}: ${detail || "(no message)"}`;
}

/** The lower of two `MAJOR.MINOR` versions. */
function olderVersion(a: string, b: string): string {
  const [am, an] = a.split(".").map(Number);
  const [bm, bn] = b.split(".").map(Number);
  return am < bm || (am === bm && an <= bn) ? a : b;
}

/** A refused socket, as the engine's users meet it. */
const PERMISSION_DENIED = "permission denied (is the user in the docker group?)";

function engineError(reason: string): EngineRequestError {
  return new EngineRequestError(reason);
}
