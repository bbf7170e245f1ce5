/** A DNS client for tests: a question as a resolver words it, asked over UDP. */
import dgram from "node:dgram";

/** A query message for `name` and `type`, as a resolver sends it. */
export function query(name: string, type = 1, id = 0x1234): Uint8Array {
  const labels = name.split(".").flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
  return Uint8Array.from([
    id >> 8,
    id & 0xff,
    1,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    ...labels,
    0,
    0,
    type,
    0,
    1,
  ]);
}

/**
 * One UDP question to 127.0.0.1:`port`, and its answer; rejects when none comes within
 * `timeoutMs` (a resolver's own retry interval is about a second).
 */
export function udpAsk(port: number, message: Uint8Array, timeoutMs = 3000): Promise<Uint8Array> {
  const client = dgram.createSocket("udp4");
  return new Promise<Uint8Array>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`no DNS answer from 127.0.0.1:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    client.once("message", (reply: Uint8Array) => {
      clearTimeout(timer);
      client.close();
      resolve(reply);
    });
    client.send(message, port, "127.0.0.1");
  });
}
