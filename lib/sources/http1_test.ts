/**
 * The HTTP/1.1 exchange under the Engine API client (lib/sources/http1.ts), against answers
 * written byte for byte by a unix-socket peer in the test: every framing an engine may use,
 * answers split at every byte, and the malformed or oversized answers a hostile peer can send,
 * each refused with its reason. The real engines are in tests/engine/.
 */
import assert from "node:assert/strict";
import {
  exchange,
  type Http1Answer,
  HttpExchangeError,
  MAX_HEAD_BYTES,
  readAllChunks,
} from "./http1.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Serves one connection on a fresh unix socket: reads the request head, writes `pieces` one
 * write each, then closes; gives the answer `exchange` read (its body read to the end) and
 * the request the peer saw.
 */
async function against(
  pieces: (string | Uint8Array)[],
  read: (answer: Http1Answer) => Promise<unknown> = (a) => body(a),
): Promise<{ request: string; result: unknown }> {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-http1-" });
  const path = `${dir}/peer.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  try {
    const served = (async () => {
      const conn = await listener.accept();
      try {
        const chunks: Uint8Array[] = [];
        const buffer = new Uint8Array(4096);
        while (!decoder.decode(concat(chunks)).includes("\r\n\r\n")) {
          const n = await conn.read(buffer);
          if (n === null) break;
          chunks.push(buffer.slice(0, n));
        }
        for (const piece of pieces) {
          const bytes = typeof piece === "string" ? encoder.encode(piece) : piece;
          for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
        }
        return decoder.decode(concat(chunks));
      } finally {
        conn.close();
      }
    })();
    const conn = await Deno.connect({ transport: "unix", path });
    const signal = AbortSignal.timeout(5_000);
    const result = await exchange(
      conn,
      { method: "GET", target: "/v1.47/x?a=1", host: "docker" },
      signal,
    )
      .then(read)
      .catch((e) => e);
    return { request: await served, result };
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) out.set(c, (at += c.length) - c.length);
  return out;
}

async function body(answer: Http1Answer): Promise<{ status: number; text: string }> {
  const bytes = await readAllChunks(answer.body, 1 << 20, () => new Error("too large"));
  return { status: answer.status, text: decoder.decode(bytes) };
}

/** Every way of splitting `text` in two, and byte by byte. */
function splits(text: string): (string | Uint8Array)[][] {
  const bytes = encoder.encode(text);
  const out: Uint8Array[][] = [[...bytes].map((b) => new Uint8Array([b]))];
  for (let i = 1; i < bytes.length; i++) out.push([bytes.slice(0, i), bytes.slice(i)]);
  return out;
}

Deno.test("http1: the request is HTTP/1.1 with Host, asks to close, and names the target", async () => {
  const { request } = await against(["HTTP/1.1 204 No Content\r\n\r\n"]);
  assert.match(request, /^GET \/v1\.47\/x\?a=1 HTTP\/1\.1\r\nHost: docker\r\n/);
  assert.match(request, /\r\nConnection: close\r\n/);
});

Deno.test("http1: Content-Length, chunked (extensions, trailers) and close-delimited bodies, split at every byte", async () => {
  const cases: [string, string][] = [
    [
      "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nApi-Version: 1.41\r\n\r\nhello world",
      "hello world",
    ],
    [
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n",
      "hello world",
    ],
    ["HTTP/1.0 200 OK\r\n\r\nuntil the end", "until the end"],
    ["HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", ""],
  ];
  for (const [answer, expected] of cases) {
    for (const pieces of splits(answer)) {
      const { result } = await against(pieces);
      assert.ok(!(result instanceof Error), `${JSON.stringify(answer)}: ${result}`);
      assert.equal((result as { text: string }).text, expected, JSON.stringify(pieces.length));
    }
  }
});

Deno.test("http1: headers by lower-case name, repeats joined; the status as a number", async () => {
  const { result } = await against([
    "HTTP/1.1 404 Not Found\r\nServer: Docker/28\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 2\r\n\r\n{}",
  ], (answer) => Promise.resolve(answer));
  const answer = result as Http1Answer;
  assert.equal(answer.status, 404);
  assert.equal(answer.headers.get("server"), "Docker/28");
  assert.equal(answer.headers.get("x-a"), "1, 2");
  assert.equal(answer.contentLength, 2);
  answer.body.cancel();
});

Deno.test("http1: malformed, truncated and oversized answers are refused with their reason", async () => {
  const cases: [(string | Uint8Array)[], string][] = [
    [
      ["SSH-2.0-OpenSSH_9.2\r\n\r\n"],
      'the answer is not HTTP/1.x (it starts "SSH-2.0-OpenSSH_9.2")',
    ],
    [["HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"], 'a header line is malformed ("no colon here")'],
    [["HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"], 'the Content-Length "-1" is not a length'],
    [
      ["HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"],
      'unsupported Transfer-Encoding "gzip"',
    ],
    [["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"], "the connection closed mid-answer"],
    [["HTTP/1.1 200 OK\r\nContent-"], "the connection closed mid-answer"],
    [[
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ], 'a chunk size is malformed ("zz")'],
    [[
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
    ], "a chunk is longer than its size"],
    [[
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    ], "the connection closed mid-answer"],
    [[
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + "0".repeat(5000),
    ], "a chunk-size line is over 4 KiB"],
    [[`HTTP/1.1 200 OK\r\nX: ${"a".repeat(MAX_HEAD_BYTES)}`], "the answer's head is over 64 KiB"],
  ];
  for (const [pieces, reason] of cases) {
    const { result } = await against(pieces);
    assert.ok(result instanceof HttpExchangeError, `${reason}: got ${JSON.stringify(result)}`);
    assert.equal(result.message, reason);
  }
});

Deno.test("http1: the signal closes the connection and ends a read in progress", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-http1-" });
  const path = `${dir}/peer.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  try {
    const accepted = listener.accept();
    const conn = await Deno.connect({ transport: "unix", path });
    const peer = await accepted;
    const controller = new AbortController();
    const pending = exchange(
      conn,
      { method: "GET", target: "/events", host: "docker" },
      controller.signal,
    )
      .catch((e) => e);
    controller.abort(new Error("stopped"));
    const error = await pending;
    assert.ok(error instanceof HttpExchangeError, String(error));
    assert.equal(error.message, "the connection was closed");
    // the peer sees the connection end
    assert.equal(
      await peer.read(new Uint8Array(4096)).then(() => peer.read(new Uint8Array(16))),
      null,
    );
    peer.close();
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
