/**
 * A misbehaving Docker Engine API on a unix socket, for the faults a real dockerd cannot be
 * made to show on demand: answers cut mid-body, stalled headers or bodies, a slow drip, bodies
 * over the size bound, bodies that are not JSON, event lines without end. It speaks raw HTTP
 * on the socket so that it can break the exchange at any byte. A stand-in for tests of the
 * client's bounds only; everything else runs against the real engine.
 */

/** How the stand-in answers one path. */
export type Fault =
  | "ok" // a well-formed answer: `[]`, or for /events one event line then an open stream
  | "truncated" // Content-Length promises more than is sent, then the connection closes
  | "truncated-chunked" // a chunked body cut inside a chunk
  | "stall-headers" // the request is read; nothing is ever answered
  | "stall-body" // headers and half a body, then silence
  | "drip" // one byte of a long body every 100 ms
  | "huge" // a chunked body of 2 MiB of JSON array
  | "not-json" // a complete answer that is not JSON
  | "endless-line"; // /events: bytes without a newline, 64 KiB at a time

/** A running stand-in: its socket, the paths asked, and `close()`. */
export interface FaultyEngine {
  socketPath: string;
  requests: string[];
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const HEADERS = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\n";

/** Starts a stand-in in `dir` answering each path (without query) by `faults`, else `ok`. */
export function faultyEngine(dir: string, faults: Record<string, Fault>): FaultyEngine {
  const socketPath = `${dir}/faulty-${crypto.randomUUID().slice(0, 6)}.sock`;
  const listener = Deno.listen({ transport: "unix", path: socketPath });
  const requests: string[] = [];
  const open = new Set<Deno.Conn>();
  const closing = new AbortController();
  const serving = (async () => {
    for await (const conn of listener) {
      open.add(conn);
      answer(conn).catch(() => {}).finally(() => {
        open.delete(conn);
        try {
          conn.close();
        } catch { /* closed */ }
      });
    }
  })().catch(() => {});

  async function answer(conn: Deno.Conn): Promise<void> {
    const head = await readHead(conn);
    // a client may send the absolute form (`GET http://docker/...`)
    const target = (head.split(" ")[1] ?? "").replace(/^https?:\/\/[^/]+/, "");
    const path = target.split("?")[0].replace(/^\/v[0-9.]+/, "");
    requests.push(path);
    const fault = faults[path] ?? "ok";
    const write = async (text: string) => {
      const bytes = encoder.encode(text);
      for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
    };
    const wait = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        closing.signal.addEventListener("abort", () => (clearTimeout(t), resolve()), {
          once: true,
        });
      });
    const body = path === "/events" ? '{"Type":"container","Action":"start","time":1}\n' : "[]";
    switch (fault) {
      case "ok":
        if (path === "/events") {
          await write(`${HEADERS}Transfer-Encoding: chunked\r\n\r\n`);
          await write(`${body.length.toString(16)}\r\n${body}\r\n`);
          await wait(60_000);
        } else await write(`${HEADERS}Content-Length: ${body.length}\r\n\r\n${body}`);
        return;
      case "truncated":
        await write(`${HEADERS}Content-Length: 1000\r\n\r\n[{"Id":"abc`);
        return;
      case "truncated-chunked":
        await write(`${HEADERS}Transfer-Encoding: chunked\r\n\r\n100\r\n[{"Id":"abc`);
        return;
      case "stall-headers":
        await wait(60_000);
        return;
      case "stall-body":
        await write(`${HEADERS}Content-Length: 1000\r\n\r\n[{"Id":"abc`);
        await wait(60_000);
        return;
      case "drip":
        await write(`${HEADERS}Content-Length: 100000\r\n\r\n[`);
        for (let i = 0; i < 600 && !closing.signal.aborted; i++) {
          await write(" ");
          await wait(100);
        }
        return;
      case "huge": {
        await write(`${HEADERS}Transfer-Encoding: chunked\r\n\r\n`);
        const piece = `${"0,".repeat(32 * 1024)}`;
        await write(`1\r\n[\r\n`);
        for (
          let sent = 0;
          sent < 2 * 1024 * 1024 && !closing.signal.aborted;
          sent += piece.length
        ) {
          await write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
        }
        await write(`2\r\n0]\r\n0\r\n\r\n`);
        return;
      }
      case "not-json":
        await write(`${HEADERS}Content-Length: 9\r\n\r\n<html>no!`);
        return;
      case "endless-line": {
        await write(`${HEADERS}Transfer-Encoding: chunked\r\n\r\n`);
        const piece = "x".repeat(64 * 1024);
        for (let i = 0; i < 64 && !closing.signal.aborted; i++) {
          await write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
        }
        await wait(60_000);
        return;
      }
    }
  }

  return {
    socketPath,
    requests,
    async close() {
      closing.abort();
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await serving;
      await Deno.remove(socketPath).catch(() => {});
    },
  };
}

/** Reads a request's head (up to the blank line); its request line comes first. */
async function readHead(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(16 * 1024);
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return text;
}
