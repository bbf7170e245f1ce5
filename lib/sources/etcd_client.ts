/**
 * A small etcd v3 client on Deno's own `fetch`, through etcd's JSON gateway (`/v3/kv/range`,
 * `/v3/kv/txn`, `/v3/watch`, `/v3/auth/authenticate`; keys and values in base64). Every member
 * is tried in turn: one that refuses, times out or has no leader is skipped, and the member that
 * answered last is asked first. Every exchange has a deadline and a size bound; an answer is
 * validated before it is used. TLS with a CA and a client certificate, and etcd's user and
 * password auth (its token is renewed when etcd refuses it).
 *
 * @module
 */
import { ConfigError, fileErrorReason, LbsyncError } from "../core/errors.ts";
import { isObject, parseJson } from "../core/util/json_access.ts";
import { describeTransportError, formatMs, readBody } from "./http_exchange.ts";
import { LineSplitter } from "./engine_client.ts";

/** How to reach an etcd cluster. */
export interface EtcdSettings {
  /** The members' client addresses, `HOST:PORT`. */
  endpoints: string[];
  /** Speak TLS (`https`). */
  tls?: boolean;
  /** PEM file of the CA that signed the members' certificates. */
  caFile?: string;
  /** PEM file of the client certificate. */
  certFile?: string;
  /** PEM file of the client certificate's key. */
  keyFile?: string;
  /** etcd's user (user and password auth). */
  user?: string;
  /** The user's password. */
  password?: string;
  /** Deadline of one exchange with one member, in ms (default 3 s). */
  timeoutMs?: number;
  /** Largest answer read, in bytes (default 16 MiB). */
  maxBodyBytes?: number;
}

/**
 * A failed store request. `unreachable`: no member answered (every one refused, timed out or
 * had no leader); otherwise etcd answered with an error.
 */
export class StoreError extends LbsyncError {
  /** An error whose message is one line: what failed, where, why. */
  constructor(
    message: string,
    /** No member answered: the store is away, not refusing. */
    readonly unreachable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One key as etcd holds it, decoded. */
export interface StoreEntry {
  key: string;
  value: string;
  modRevision: number;
}

/** A change under a watched prefix: a put (with its value) or a delete. */
export interface StoreEvent {
  type: "put" | "delete";
  entry: StoreEntry;
}

/** One condition of a transaction: the key's mod revision is `modRevision` (0: absent). */
export interface RevisionCompare {
  key: string;
  modRevision: number;
}

/** One operation of a transaction: put `value`, or delete when `value` is undefined. */
export interface StoreOp {
  key: string;
  value?: string;
}

const DEFAULT_TIMEOUT_MS = 3_000;
const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
/** The longest line of a watch stream: one batch of events. */
const MAX_WATCH_LINE = 16 * 1024 * 1024;
/** gRPC codes that mean "ask another member": unavailable, deadline exceeded. */
const TRY_ANOTHER = new Set([14, 4]);
const UNAUTHENTICATED = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Base64 of a string's UTF-8 bytes. */
export function toBase64(text: string): string {
  let binary = "";
  for (const byte of encoder.encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The string of base64 UTF-8 bytes; `undefined` for what is not base64. */
export function fromBase64(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  try {
    return decoder.decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

/** The end of the range of keys that start with `prefix` (its last byte plus one). */
export function prefixRangeEnd(prefix: string): string {
  const bytes = encoder.encode(prefix);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0xff) end--;
  if (end === 0) return "AA=="; // "\0": every key
  const next = bytes.slice(0, end);
  next[end - 1]++;
  let binary = "";
  for (const byte of next) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** An etcd cluster's client, reached through any of its members. */
export class EtcdClient {
  readonly #settings: EtcdSettings;
  readonly #timeoutMs: number;
  #http: Promise<Deno.HttpClient> | undefined;
  #token: string | undefined;
  /** The member that answered last: asked first next time. */
  #preferred = 0;

  /** A client; nothing connects before the first request. */
  constructor(settings: EtcdSettings) {
    if (settings.endpoints.length === 0) throw new ConfigError("etcd: no endpoint");
    this.#settings = settings;
    this.#timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** `etcd://HOST:PORT,...`, for messages. */
  get url(): string {
    return `${this.#settings.tls ? "etcds" : "etcd"}://${this.#settings.endpoints.join(",")}`;
  }

  /**
   * Every key under `prefix`, sorted by key, with the store's revision of the read.
   *
   * @throws {StoreError} when no member answers or etcd refuses
   */
  async range(
    prefix: string,
    signal?: AbortSignal,
  ): Promise<{ revision: number; entries: StoreEntry[] }> {
    const answer = await this.#call("/v3/kv/range", {
      key: toBase64(prefix),
      range_end: prefixRangeEnd(prefix),
    }, signal);
    const kvs = answer.kvs ?? [];
    if (!Array.isArray(kvs)) throw malformed("range", "kvs is not an array");
    const entries = kvs.map((kv) => entryOf(kv, "range"));
    return { revision: revisionOf(answer, "range"), entries };
  }

  /**
   * A transaction: when every compare holds, the operations run and `succeeded` is true;
   * `revision` is the store's revision after it.
   *
   * @throws {StoreError} when no member answers or etcd refuses
   */
  async txn(
    compares: RevisionCompare[],
    ops: StoreOp[],
    signal?: AbortSignal,
  ): Promise<{ succeeded: boolean; revision: number }> {
    const answer = await this.#call("/v3/kv/txn", {
      compare: compares.map((c) => ({
        key: toBase64(c.key),
        result: "EQUAL",
        target: "MOD",
        mod_revision: String(c.modRevision),
      })),
      success: ops.map((op) =>
        op.value === undefined
          ? { request_delete_range: { key: toBase64(op.key) } }
          : { request_put: { key: toBase64(op.key), value: toBase64(op.value) } }
      ),
    }, signal);
    return { succeeded: answer.succeeded === true, revision: revisionOf(answer, "txn") };
  }

  /**
   * Follows the keys under `prefix` from `startRevision` until `signal` aborts (resolves) or
   * the stream breaks (rejects). `opened` is called once etcd accepted the watch, with the
   * member that serves it; `events` with each batch of changes. Every `checkEveryMs` the same
   * member is asked for a linearizable read: a member that lost its quorum keeps a watch open
   * and silent, and this notices it.
   *
   * @throws {StoreError} when the watch cannot start, breaks, or was compacted away
   */
  async watch(
    prefix: string,
    startRevision: number,
    handlers: { opened(member: string): void; events(events: StoreEvent[]): void },
    signal: AbortSignal,
    checkEveryMs = 2_000,
  ): Promise<void> {
    const body = {
      create_request: {
        key: toBase64(prefix),
        range_end: prefixRangeEnd(prefix),
        start_revision: String(startRevision),
      },
    };
    const local = new AbortController();
    const both = AbortSignal.any([signal, local.signal]);
    const { response, member } = await this.#open("/v3/watch", body, both);
    handlers.opened(this.#settings.endpoints[member]);
    let probe: ReturnType<typeof setTimeout> | undefined;
    let ended = false;
    const check = () => {
      // one probe at a time: the next is timed from the end of this one
      if (ended) return;
      probe = setTimeout(() => {
        const query = { key: toBase64(prefix), limit: 1, count_only: true };
        this.#exchange(member, "/v3/kv/range", query, both)
          .then(check, (error) => both.aborted || local.abort(error));
      }, checkEveryMs);
    };
    check();
    const reader = response.body!.getReader();
    const stop = () => reader.cancel().catch(() => {});
    both.addEventListener("abort", stop, { once: true });
    const lines = new LineSplitter(MAX_WATCH_LINE);
    try {
      while (true) {
        const chunk = await reader.read().catch((error) => {
          throw this.#failure(error, member);
        });
        if (signal.aborted) return;
        if (local.signal.aborted) throw this.#failure(local.signal.reason, member);
        if (chunk.done) throw new StoreError(`etcd ${this.#name(member)}: watch ended`, true);
        for (const line of lines.push(chunk.value)) {
          const text = decoder.decode(line).trim();
          if (text === "") continue;
          const events = this.#watchMessage(text, member);
          if (events.length > 0) handlers.events(events);
        }
      }
    } finally {
      ended = true;
      clearTimeout(probe);
      both.removeEventListener("abort", stop);
      await reader.cancel().catch(() => {});
    }
  }

  /** Closes the pooled connections. */
  async close(): Promise<void> {
    const http = this.#http;
    this.#http = undefined;
    if (http) (await http.catch(() => undefined))?.close();
  }

  #watchMessage(text: string, member: number): StoreEvent[] {
    let message: unknown;
    try {
      message = parseJson(text);
    } catch {
      throw malformed("watch", "a line is not JSON");
    }
    if (!isObject(message)) throw malformed("watch", "a line is not an object");
    if (message.error !== undefined) {
      throw new StoreError(`etcd ${this.#name(member)}: watch: ${errorText(message.error)}`, true);
    }
    const result = isObject(message.result) ? message.result : {};
    if (result.canceled === true || result.compact_revision !== undefined) {
      const why = typeof result.cancel_reason === "string" ? result.cancel_reason : "canceled";
      throw new StoreError(`etcd ${this.#name(member)}: watch ${why}`, true);
    }
    const events = result.events ?? [];
    if (!Array.isArray(events)) throw malformed("watch", "events is not an array");
    return events.map((e): StoreEvent => {
      if (!isObject(e)) throw malformed("watch", "an event is not an object");
      const type = e.type === "DELETE" ? "delete" : "put";
      return { type, entry: entryOf(e.kv, "watch", type === "delete") };
    });
  }

  /** A unary call to the first member that answers it. */
  async #call(
    path: string,
    body: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const failures: string[] = [];
    for (const member of this.#order()) {
      try {
        const answer = await this.#exchange(member, path, body, signal);
        this.#preferred = member;
        return answer;
      } catch (error) {
        if (signal?.aborted) throw error;
        if (!(error instanceof StoreError) || !error.unreachable) throw error;
        failures.push(error.message);
      }
    }
    throw new StoreError(`etcd unreachable: ${failures.join("; ")}`, true);
  }

  /** Opens a stream on the first member that accepts it. */
  async #open(
    path: string,
    body: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<{ response: Response; member: number }> {
    const failures: string[] = [];
    for (const member of this.#order()) {
      // a deadline on the answer's headers only: a quiet stream is not a broken one
      const headers = new AbortController();
      const timer = setTimeout(() => headers.abort(), this.#timeoutMs);
      try {
        const both = AbortSignal.any([signal, headers.signal]);
        const response = await this.#post(member, path, body, both, false);
        this.#preferred = member;
        return { response, member };
      } catch (error) {
        if (signal.aborted) throw error;
        if (headers.signal.aborted) {
          failures.push(this.#failure(error, member, true).message);
          continue;
        }
        if (!(error instanceof StoreError) || !error.unreachable) throw error;
        failures.push(error.message);
      } finally {
        clearTimeout(timer);
      }
    }
    throw new StoreError(`etcd unreachable: ${failures.join("; ")}`, true);
  }

  #order(): number[] {
    const n = this.#settings.endpoints.length;
    return Array.from({ length: n }, (_, i) => (this.#preferred + i) % n);
  }

  /** One request to one member, its answer read whole within the deadline. */
  async #exchange(
    member: number,
    path: string,
    body: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const timer = new AbortController();
    const id = setTimeout(() => timer.abort(), this.#timeoutMs);
    const both = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
    try {
      const response = await this.#post(member, path, body, both, true);
      const text = await readBody(
        response,
        this.#settings.maxBodyBytes ?? DEFAULT_MAX_BODY,
        both,
        (why) => new StoreError(`etcd ${this.#name(member)}: ${path}: ${why}`, false),
      );
      return this.#answerOf(text, path);
    } catch (error) {
      throw this.#failure(error, member, timer.signal.aborted);
    } finally {
      clearTimeout(id);
    }
  }

  /**
   * POSTs `body`; an error answer becomes a {@link StoreError}. With `auth` (unary calls) a
   * refused token is renewed once.
   */
  async #post(
    member: number,
    path: string,
    body: Record<string, unknown>,
    signal: AbortSignal,
    retryAuth: boolean,
  ): Promise<Response> {
    const client = await (this.#http ??= this.#createHttp());
    const token = await this.#authToken(member, signal);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token) headers.authorization = token;
    const url = `${this.#base(member)}${path}`;
    const response = await fetch(url, {
      method: "POST",
      body: JSON.stringify(body),
      headers,
      client,
      signal,
    }).catch((error) => {
      throw this.#failure(error, member, false);
    });
    if (response.ok) return response;
    const text = await readBody(response, 64 * 1024, signal, (why) => new Error(why))
      .catch(() => "");
    const { code, message } = grpcError(text);
    if (code === UNAUTHENTICATED && token && retryAuth) {
      this.#token = undefined;
      return this.#post(member, path, body, signal, false);
    }
    const unreachable = TRY_ANOTHER.has(code ?? -1) || response.status >= 500 ||
      /no leader|leader changed|timed out/i.test(message);
    throw new StoreError(
      `etcd ${this.#name(member)}: ${path}: ${response.status}: ${message}`,
      unreachable,
    );
  }

  /** The auth token, fetched once per user (`undefined` without auth). */
  async #authToken(member: number, signal: AbortSignal): Promise<string | undefined> {
    const { user, password } = this.#settings;
    if (user === undefined || this.#token !== undefined) return this.#token;
    const client = await (this.#http ??= this.#createHttp());
    const response = await fetch(`${this.#base(member)}/v3/auth/authenticate`, {
      method: "POST",
      body: JSON.stringify({ name: user, password: password ?? "" }),
      headers: { "content-type": "application/json" },
      client,
      signal,
    }).catch((error) => {
      throw this.#failure(error, member, false);
    });
    const text = await readBody(response, 64 * 1024, signal, (why) => new Error(why));
    if (!response.ok) {
      const { code, message } = grpcError(text);
      throw new StoreError(
        `etcd ${this.#name(member)}: cannot authenticate as ${user}: ${message}`,
        TRY_ANOTHER.has(code ?? -1) || response.status >= 500,
      );
    }
    const token = this.#answerOf(text, "authenticate").token;
    if (typeof token !== "string" || token === "" || /[\r\n]/.test(token)) {
      throw malformed("authenticate", "no token");
    }
    return this.#token = token;
  }

  #answerOf(text: string, what: string): Record<string, unknown> {
    let answer: unknown;
    try {
      answer = parseJson(text);
    } catch {
      throw malformed(what, "not JSON");
    }
    if (!isObject(answer)) throw malformed(what, "not an object");
    return answer;
  }

  #base(member: number): string {
    return `${this.#settings.tls ? "https" : "http"}://${this.#settings.endpoints[member]}`;
  }

  #name(member: number): string {
    return this.#settings.endpoints[member];
  }

  #failure(error: unknown, member: number, timedOut = false): StoreError {
    if (timedOut) {
      const why = `timed out after ${formatMs(this.#timeoutMs)}`;
      return new StoreError(`etcd ${this.#name(member)}: ${why}`, true, { cause: error });
    }
    if (error instanceof StoreError || error instanceof ConfigError) return error as StoreError;
    const why = describeTransportError(error);
    return new StoreError(`etcd ${this.#name(member)}: ${why}`, true, { cause: error });
  }

  async #createHttp(): Promise<Deno.HttpClient> {
    const read = async (path: string | undefined, what: string) => {
      if (path === undefined) return undefined;
      try {
        return await Deno.readTextFile(path);
      } catch (error) {
        throw new ConfigError(
          `Cannot read the store's TLS ${what} ${path}: ${fileErrorReason(error)}`,
        );
      }
    };
    const s = this.#settings;
    const ca = await read(s.caFile, "CA");
    const cert = await read(s.certFile, "certificate");
    const key = await read(s.keyFile, "key");
    return Deno.createHttpClient({
      ...(ca ? { caCerts: [ca] } : {}),
      ...(cert && key ? { cert, key } : {}),
    });
  }
}

function grpcError(text: string): { code?: number; message: string } {
  try {
    const answer = JSON.parse(text);
    const code = typeof answer?.code === "number" ? answer.code : undefined;
    const message = typeof answer?.message === "string" ? answer.message : text;
    return { code, message: oneLine(message) };
  } catch {
    return { message: oneLine(text) || "(no message)" };
  }
}

function errorText(error: unknown): string {
  if (isObject(error) && typeof error.message === "string") return oneLine(error.message);
  return oneLine(JSON.stringify(error) ?? "error");
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 300);
}

function malformed(what: string, why: string): StoreError {
  return new StoreError(`etcd: a malformed ${what} answer: ${why}`, false);
}

/** The header's revision of an answer: a decimal string, as etcd sends int64. */
function revisionOf(answer: Record<string, unknown>, what: string): number {
  const header = isObject(answer.header) ? answer.header : {};
  return revisionNumber(header.revision, what);
}

function revisionNumber(value: unknown, what: string): number {
  const text = value === undefined ? "0" : value;
  if (typeof text !== "string" || !/^\d{1,15}$/.test(text)) {
    throw malformed(what, "a revision is not a number");
  }
  return Number(text);
}

function entryOf(kv: unknown, what: string, deleted = false): StoreEntry {
  if (!isObject(kv)) throw malformed(what, "a key-value is not an object");
  const key = fromBase64(kv.key);
  const value = deleted ? "" : fromBase64(kv.value ?? "");
  if (key === undefined || value === undefined) throw malformed(what, "a key is not base64");
  return { key, value, modRevision: revisionNumber(kv.mod_revision, what) };
}
