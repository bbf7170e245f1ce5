/**
 * One HTTP/1.1 exchange on a connection lbsync opened itself (a unix socket, TCP or TLS), for
 * the Engine API client: a request out, the answer's status and headers in, then its body as
 * chunks, framed by `Content-Length`, `Transfer-Encoding: chunked` or the connection's end.
 * Every read is bounded (the head, a chunk's size line, the trailers) and the answer is
 * untrusted: anything that is not HTTP/1.x fails with a reason for people. The request asks for
 * `Connection: close`, so the connection ends with the answer.
 *
 * Deno's `fetch` would do the same; its first use costs a process about 10 ms and 4 MB (the
 * web streams and the HTTP client it loads), which is most of a one-shot render's work.
 *
 * @module
 */
import { joinBytes } from "../core/util/bytes.ts";

/** Largest head (status line and headers) read, in bytes. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Largest chunk-size line or trailer section of a chunked body, in bytes. */
const MAX_LINE_BYTES = 4 * 1024;

/** An exchange that failed; the message is the reason in a few words. */
export class HttpExchangeError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "HttpExchangeError";
  }
}

/** The request: a method, the path with its query, and the `Host` header. */
export interface Http1Request {
  method: string;
  /** The request target, `/v1.47/containers/json?all=1`. */
  target: string;
  host: string;
}

/** A body being read: each `read` gives the next bytes, `null` at its end. */
export interface BodyChunks {
  read(): Promise<Uint8Array | null>;
  /** Stops reading and closes the connection; a pending `read` fails. */
  cancel(): void;
}

/** An answer whose head has been read. */
export interface Http1Answer {
  status: number;
  /** The headers by lower-case name; repeated ones joined with `, `. */
  headers: ReadonlyMap<string, string>;
  /** The body's length when the answer declares it. */
  contentLength?: number;
  body: BodyChunks;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Sends `request` on `conn` and reads the answer's head. `signal` closes the connection,
 * which ends any read in progress; the caller owns `conn` until the body is read or
 * cancelled, which closes it.
 *
 * @throws {HttpExchangeError} when the answer is not HTTP/1.x or the connection ends first
 */
export async function exchange(
  conn: Deno.Conn,
  request: Http1Request,
  signal: AbortSignal,
): Promise<Http1Answer> {
  const reader = new ConnReader(conn, signal);
  try {
    await writeAll(
      conn,
      encoder.encode(
        `${request.method} ${request.target} HTTP/1.1\r\nHost: ${request.host}\r\n` +
          "User-Agent: lbsync\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
      ),
    );
    const head = parseHead(await reader.head());
    const noBody = request.method === "HEAD" || head.status === 204 || head.status === 304;
    const encoding = head.headers.get("transfer-encoding")?.toLowerCase();
    let body: BodyChunks;
    let contentLength: number | undefined;
    if (noBody) body = new LengthBody(reader, 0);
    else if (encoding !== undefined) {
      if (!/(^|,)\s*chunked\s*$/.test(encoding)) {
        throw new HttpExchangeError(`unsupported Transfer-Encoding ${JSON.stringify(encoding)}`);
      }
      body = new ChunkedBody(reader);
    } else if (head.headers.has("content-length")) {
      contentLength = parseLength(head.headers.get("content-length")!);
      body = new LengthBody(reader, contentLength);
    } else body = new CloseDelimitedBody(reader);
    return { ...head, contentLength, body };
  } catch (error) {
    reader.close();
    throw error;
  }
}

/** Reads all of `body`, at most `limit` bytes, as one array. */
export async function readAllChunks(
  body: BodyChunks,
  limit: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (let chunk = await body.read(); chunk !== null; chunk = await body.read()) {
      size += chunk.length;
      if (size > limit) throw tooLarge();
      chunks.push(chunk);
    }
  } finally {
    body.cancel();
  }
  return joinBytes(chunks, size);
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

function parseHead(bytes: Uint8Array): Omit<Http1Answer, "body" | "contentLength"> {
  const lines = decoder.decode(bytes).split("\r\n");
  const status = /^HTTP\/1\.[01] ([1-5][0-9]{2})(?: |$)/.exec(lines[0]);
  if (!status) {
    throw new HttpExchangeError(
      `the answer is not HTTP/1.x (it starts ${JSON.stringify(lines[0].slice(0, 40))})`,
    );
  }
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) {
      throw new HttpExchangeError(
        `a header line is malformed (${JSON.stringify(line.slice(0, 40))})`,
      );
    }
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const earlier = headers.get(name);
    headers.set(name, earlier === undefined ? value : `${earlier}, ${value}`);
  }
  return { status: Number(status[1]), headers };
}

function parseLength(value: string): number {
  if (!/^[0-9]{1,15}$/.test(value)) {
    throw new HttpExchangeError(`the Content-Length ${JSON.stringify(value)} is not a length`);
  }
  return Number(value);
}

const CLOSED_MID_ANSWER = "the connection closed mid-answer";

/** Buffered reads from one connection; closing it (or `signal`) ends them. */
class ConnReader {
  #buffer: Uint8Array = new Uint8Array(0);
  #closed = false;
  readonly #close = () => this.close();

  constructor(readonly conn: Deno.Conn, readonly signal: AbortSignal) {
    if (signal.aborted) this.close();
    else signal.addEventListener("abort", this.#close, { once: true });
  }

  /** Bytes up to and without the blank line that ends the head. */
  async head(): Promise<Uint8Array> {
    const end = await this.#until(CRLF_CRLF, MAX_HEAD_BYTES, "the answer's head");
    return this.take(end + 4).subarray(0, end);
  }

  /** One line without its CRLF, at most `limit` bytes. */
  async line(what: string): Promise<string> {
    const end = await this.#until(CRLF, MAX_LINE_BYTES, what);
    return decoder.decode(this.take(end + 2).subarray(0, end));
  }

  /** What is buffered, or the next bytes read; `null` when the connection ended. */
  async some(max: number): Promise<Uint8Array | null> {
    if (this.#buffer.length === 0 && !(await this.#fill())) return null;
    return this.take(Math.min(max, this.#buffer.length));
  }

  /** The first `n` buffered bytes, removed from the buffer. */
  take(n: number): Uint8Array {
    const taken = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return taken;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.signal.removeEventListener("abort", this.#close);
    try {
      this.conn.close();
    } catch {
      // already closed by the peer
    }
  }

  /** The index of `pattern` in the buffer, reading until it comes or `limit` is passed. */
  async #until(pattern: Uint8Array, limit: number, what: string): Promise<number> {
    let from = 0;
    while (true) {
      const at = indexOf(this.#buffer, pattern, from);
      if (at >= 0 && at <= limit) return at;
      if (this.#buffer.length > limit) {
        throw new HttpExchangeError(`${what} is over ${limit / 1024} KiB`);
      }
      from = Math.max(0, this.#buffer.length - pattern.length + 1);
      if (!(await this.#fill())) throw new HttpExchangeError(CLOSED_MID_ANSWER);
    }
  }

  /** Reads more bytes into the buffer; false at the connection's end. */
  async #fill(): Promise<boolean> {
    if (this.#closed) throw new HttpExchangeError("the connection was closed");
    const scratch = new Uint8Array(64 * 1024);
    let n: number | null;
    try {
      n = await this.conn.read(scratch);
    } catch (error) {
      if (this.#closed) throw new HttpExchangeError("the connection was closed");
      throw error;
    }
    if (n === null) return false;
    this.#buffer = this.#buffer.length === 0
      ? scratch.subarray(0, n)
      : joinBytes([this.#buffer, scratch.subarray(0, n)], this.#buffer.length + n);
    return true;
  }
}

const CRLF = encoder.encode("\r\n");
const CRLF_CRLF = encoder.encode("\r\n\r\n");

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  for (let i = haystack.indexOf(needle[0], from); i >= 0; i = haystack.indexOf(needle[0], i + 1)) {
    if (i + needle.length > haystack.length) return -1;
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** A body of a declared length. */
class LengthBody implements BodyChunks {
  constructor(readonly reader: ConnReader, private left: number) {}

  async read(): Promise<Uint8Array | null> {
    if (this.left === 0) {
      this.cancel();
      return null;
    }
    const bytes = await this.reader.some(this.left);
    if (bytes === null) throw new HttpExchangeError(CLOSED_MID_ANSWER);
    this.left -= bytes.length;
    return bytes;
  }

  cancel(): void {
    this.reader.close();
  }
}

/** A body that ends with the connection (HTTP/1.0 style, no length given). */
class CloseDelimitedBody implements BodyChunks {
  constructor(readonly reader: ConnReader) {}

  async read(): Promise<Uint8Array | null> {
    const bytes = await this.reader.some(64 * 1024);
    if (bytes === null) this.cancel();
    return bytes;
  }

  cancel(): void {
    this.reader.close();
  }
}

/** A `Transfer-Encoding: chunked` body; its trailers are read and dropped. */
class ChunkedBody implements BodyChunks {
  #left = 0;
  #done = false;

  constructor(readonly reader: ConnReader) {}

  async read(): Promise<Uint8Array | null> {
    if (this.#done) return null;
    if (this.#left === 0) {
      const line = await this.reader.line("a chunk-size line");
      const size = /^([0-9a-fA-F]{1,12})(?:[ \t]*;.*)?[ \t]*$/.exec(line);
      if (!size) {
        throw new HttpExchangeError(
          `a chunk size is malformed (${JSON.stringify(line.slice(0, 40))})`,
        );
      }
      this.#left = parseInt(size[1], 16);
      if (this.#left === 0) {
        await this.#trailers();
        return null;
      }
    }
    const bytes = await this.reader.some(this.#left);
    if (bytes === null) throw new HttpExchangeError(CLOSED_MID_ANSWER);
    this.#left -= bytes.length;
    if (this.#left === 0 && (await this.reader.line("a chunk's end")) !== "") {
      throw new HttpExchangeError("a chunk is longer than its size");
    }
    return bytes;
  }

  cancel(): void {
    this.#done = true;
    this.reader.close();
  }

  async #trailers(): Promise<void> {
    for (let lines = 0; (await this.reader.line("the trailers")) !== ""; lines++) {
      if (lines >= 64) throw new HttpExchangeError("the trailers are over 64 lines");
    }
    this.cancel();
  }
}
