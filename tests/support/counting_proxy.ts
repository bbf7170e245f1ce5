/**
 * A unix-socket proxy in front of the real test engine that records every HTTP request
 * line it forwards: proves how many requests a discovery pass makes. It changes nothing.
 */

/** A running proxy: its socket path, the requests seen, and `close()`. */
export interface CountingProxy {
  socketPath: string;
  requests: string[];
  close(): Promise<void>;
}

const REQUEST_LINE = /(?:^|\r\n)((?:GET|POST|PUT|DELETE|HEAD) \S+) HTTP\/1\.[01]\r\n/g;

/** Starts a proxy on a new socket in `dir`, forwarding to `target`. */
export function countingProxy(dir: string, target: string): CountingProxy {
  const socketPath = `${dir}/proxy-${crypto.randomUUID().slice(0, 6)}.sock`;
  const listener = Deno.listen({ transport: "unix", path: socketPath });
  const requests: string[] = [];
  const open = new Set<Deno.Conn>();
  const serve = (async () => {
    for await (const client of listener) {
      open.add(client);
      (async () => {
        const upstream = await Deno.connect({ transport: "unix", path: target });
        open.add(upstream);
        const decoder = new TextDecoder();
        const counted = new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            for (const m of decoder.decode(chunk, { stream: true }).matchAll(REQUEST_LINE)) {
              // a client may send the absolute form (`GET http://docker/...`): record the path
              requests.push(m[1].replace(/ https?:\/\/[^/]+/, " "));
            }
            controller.enqueue(chunk);
          },
        });
        await Promise.allSettled([
          client.readable.pipeThrough(counted).pipeTo(upstream.writable),
          upstream.readable.pipeTo(client.writable),
        ]);
        open.delete(client);
        open.delete(upstream);
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    socketPath,
    requests,
    async close() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await serve;
    },
  };
}
