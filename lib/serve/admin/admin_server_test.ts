/** The admin API is safe to run beside a browser and a slow client. */
import assert from "node:assert/strict";
import { serveAdmin } from "./admin_server.ts";
import { freePort, rawRequest } from "../../../tests/support/balancers.ts";
import { lbsync } from "../../../tests/support/cli.ts";

async function start(token?: string) {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-admin-hard-" });
  const configPath = `${dir}/lbsync.json`;
  await Deno.writeTextFile(configPath, JSON.stringify({ services: [] }));
  const stop = new AbortController();
  const { port, finished } = serveAdmin(
    {
      address: `127.0.0.1:${freePort()}`,
      token,
      configPath,
      apply: () => Promise.resolve(undefined),
    },
    stop.signal,
  );
  /** `head` (request line and headers), then `Connection: close` and the body, if any. */
  const request = (head: string, body?: string) =>
    rawRequest(
      port,
      `${head}\r\nConnection: close\r\n` +
        (body === undefined ? "\r\n" : `Content-Length: ${body.length}\r\n\r\n${body}`),
      5000,
    );
  return {
    port,
    dir,
    request,
    async close() {
      stop.abort();
      await finished;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("admin API: a client that never sends its body blocks no one else", async () => {
  const api = await start();
  const slow = await Deno.connect({ hostname: "127.0.0.1", port: api.port });
  try {
    await slow.write(new TextEncoder().encode(
      "PUT /services/web HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n",
    ));
    const started = performance.now();
    const r = await api.request("GET /services HTTP/1.1\r\nHost: 127.0.0.1");
    assert.equal(r.status, 200, r.body);
    assert.ok(performance.now() - started < 2000, "answered while the slow body is pending");
  } finally {
    slow.close();
    await api.close();
  }
});

Deno.test("admin API without a token: a foreign Host (DNS rebinding) and any Origin are refused", async () => {
  const api = await start();
  try {
    const rebound = await api.request(
      "PUT /services/web HTTP/1.1\r\nHost: rebind.attacker.example\r\nContent-Type: text/plain",
      "{}",
    );
    assert.equal(rebound.status, 421, rebound.body);
    const page = await api.request(
      "GET /services HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example",
    );
    assert.equal(page.status, 403, page.body);
    for (const host of ["127.0.0.1", `127.0.0.1:${api.port}`, "localhost", "[::1]:1"]) {
      const ok = await api.request(`GET /services HTTP/1.1\r\nHost: ${host}`);
      assert.equal(ok.status, 200, host);
    }
  } finally {
    await api.close();
  }
});

Deno.test("admin API: the bearer scheme is case-insensitive; a bad % escape is 400", async () => {
  const token = "0123456789abcdef-token";
  const api = await start(token);
  try {
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const r = await api.request(
        `GET /services HTTP/1.1\r\nHost: x.example\r\nAuthorization: ${scheme} ${token}`,
      );
      assert.equal(r.status, 200, scheme);
    }
    const wrong = await api.request(
      `GET /services HTTP/1.1\r\nHost: x.example\r\nAuthorization: Basic ${token}`,
    );
    assert.equal(wrong.status, 401);
    for (const path of ["/services/%zz", "/services/web/servers/%E0%A4%A"]) {
      const r = await api.request(
        `DELETE ${path} HTTP/1.1\r\nHost: x.example\r\nAuthorization: Bearer ${token}`,
      );
      assert.equal(r.status, 400, `${path}: ${r.body}`);
    }
  } finally {
    await api.close();
  }
});

Deno.test("admin API: a token file readable by others is refused at start, in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-token-" });
  try {
    await Deno.writeTextFile(`${dir}/token`, "0123456789abcdef-token\n");
    await Deno.chmod(`${dir}/token`, 0o644);
    await Deno.writeTextFile(`${dir}/lbsync.json`, JSON.stringify({ services: [] }));
    const r = await lbsync([
      "watch",
      "--config",
      `${dir}/lbsync.json`,
      "--from-file",
      "-",
      "--admin-listen",
      String(freePort()),
      "--admin-token-file",
      `${dir}/token`,
      "-t",
      "nginx",
    ], "[]");
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      `lbsync: error: --admin-token-file ${dir}/token: readable by group or others (mode 644): chmod 600 it\n`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("admin API, the REST balancer's shape: GET /, GET one server, PUT with no body, priority, schemes", async () => {
  const api = await start();
  const call = (method: string, path: string, body?: string) =>
    api.request(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1`, body);
  try {
    const put = await call("PUT", "/services/web", JSON.stringify({ servers: [] }));
    assert.equal(put.status, 200, put.body);
    const empty = await call("PUT", "/services/web/servers/10.0.0.9-8080");
    assert.equal(empty.status, 200, `no body: ${empty.body}`);
    const whole = await call("GET", "/");
    assert.equal(whole.status, 200);
    assert.deepEqual(JSON.parse(whole.body), JSON.parse((await call("GET", "/services")).body));
    const one = await call("GET", "/services/web/servers/10.0.0.9-8080");
    assert.deepEqual(JSON.parse(one.body), { host: "10.0.0.9", port: 8080 });
    assert.equal((await call("GET", "/services/web/servers/10.0.0.9-9999")).status, 404);

    // priority: the lowest serves, the higher is its backup; a third level is refused
    const two = JSON.stringify({
      servers: [{ host: "10.0.0.1", port: 80, priority: 1 }, {
        host: "10.0.0.2",
        port: 80,
        priority: 5,
      }],
    });
    assert.equal((await call("PUT", "/services/pri", two)).status, 200);
    const three = JSON.stringify({
      servers: [1, 2, 3].map((p) => ({ host: `10.0.0.${p}`, port: 80, priority: p })),
    });
    const refused = await call("PUT", "/services/pri", three);
    assert.equal(refused.status, 400);
    assert.match(
      JSON.parse(refused.body).error,
      /priorities 1, 2, 3: nginx and HAProxy have one backup tier/,
    );
    const https = await call(
      "PUT",
      "/services/s",
      JSON.stringify({ schemes: ["https"], servers: [] }),
    );
    assert.equal(https.status, 200, https.body);
    const ftp = await call("PUT", "/services/s", JSON.stringify({ schemes: ["ftp"], servers: [] }));
    assert.equal(ftp.status, 400);
    assert.match(JSON.parse(ftp.body).error, /"ftp": use \["http"\], \["https"\] or both/);
  } finally {
    await api.close();
  }
});
