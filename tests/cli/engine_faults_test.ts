/**
 * The fault matrix of every exchange with an engine, against a misbehaving Engine API
 * stand-in (tests/support/faulty_engine.ts: a real dockerd cannot be made to truncate or stall
 * on demand). Each fault ends in a bounded time with one line naming the endpoint and the
 * cause, in the library, the one-shot commands and watch mode alike.
 */
import assert from "node:assert/strict";
import { DockerEngine } from "../../lib/sources/docker.ts";
import { followEvents } from "../../lib/sources/event_stream.ts";
import { DockerError } from "../../lib/core/errors.ts";
import { LineSplitter } from "../../lib/sources/engine_client.ts";
import { type Fault, faultyEngine } from "../support/faulty_engine.ts";
import { ROOT } from "../support/fixtures.ts";
import { run } from "../support/tools.ts";
import { freePort } from "../support/balancers.ts";
import { readOr, WatchProcess } from "../support/watch_process.ts";

const TIMEOUT_MS = 400;

/** What each fault of `GET /containers/json` ends in, for a deadline of 400 ms and 1 MiB. */
const LIST_FAULTS: [Fault, string][] = [
  ["truncated", "the connection closed mid-answer"],
  ["truncated-chunked", "the connection closed mid-answer"],
  ["stall-headers", "timed out after 400 ms"],
  ["stall-body", "timed out after 400 ms"],
  ["drip", "timed out after 400 ms"],
  ["huge", "the answer is over 1 MiB"],
  ["not-json", "the answer to /containers/json is not JSON (9 bytes)"],
];

async function withEngine<T>(
  faults: Record<string, Fault>,
  body: (socket: string, requests: string[]) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-faults-" });
  const engine = faultyEngine(dir, faults);
  try {
    return await body(engine.socketPath, engine.requests);
  } finally {
    await engine.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("engine faults: every fault of a listing ends within its deadline, named", async () => {
  for (const [fault, reason] of LIST_FAULTS) {
    await withEngine({ "/containers/json": fault }, async (socket) => {
      const url = `unix://${socket}`;
      const engine = new DockerEngine({ url, socketPath: socket }, TIMEOUT_MS, undefined, false, {
        maxBodyBytes: 1024 * 1024,
      });
      const started = performance.now();
      const error = await engine.list().then(() => undefined, (e) => e);
      const ms = performance.now() - started;
      assert.ok(error instanceof DockerError, `${fault}: ${error}`);
      assert.equal(error.message, `Cannot list containers on ${url}: ${reason}`, fault);
      // the deadline plus the time to notice it: never a hang
      assert.ok(ms < TIMEOUT_MS + 2_000, `${fault} took ${ms} ms`);
      await engine.client.close();
    });
  }
});

Deno.test("engine faults: one-shot commands end with one line, exit 1", async () => {
  for (const fault of ["truncated", "stall-headers", "not-json"] as const) {
    await withEngine({ "/containers/json": fault }, async (socket) => {
      const r = await run([
        Deno.execPath(),
        "run",
        "-A",
        `${ROOT}/cli.ts`,
        "explain",
        "--docker",
        `unix://${socket}`,
        "--docker-timeout",
        "400ms",
      ], { env: { NO_COLOR: "1" } });
      assert.equal(r.code, 1, `${fault}: ${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(`^lbsync: error: Cannot list containers on unix://${socket}: [^\\n]+\\n$`),
      );
    });
  }
});

Deno.test("engine faults: an event line over the bound reconnects with the reason", async () => {
  await withEngine({ "/events": "endless-line" }, async (socket, requests) => {
    const engine = new DockerEngine({ url: `unix://${socket}`, socketPath: socket }, TIMEOUT_MS);
    const stop = new AbortController();
    const reasons: string[] = [];
    const following = followEvents(engine, {
      onEvent() {},
      onConnected() {},
      onDisconnected(reason) {
        reasons.push(reason);
        if (reasons.length === 2) stop.abort();
      },
    }, { signal: stop.signal, initialBackoffMs: 10 });
    const bound = setTimeout(() => stop.abort(), 20_000);
    await following;
    clearTimeout(bound);
    assert.deepEqual(reasons, ["an event line is over 1 MiB", "an event line is over 1 MiB"]);
    assert.equal(requests.filter((p) => p === "/events").length, 2);
    await engine.client.close();
  });
});

Deno.test("engine faults: stalled event stream headers time out and retry", async () => {
  await withEngine({ "/events": "stall-headers" }, async (socket) => {
    const engine = new DockerEngine({ url: `unix://${socket}`, socketPath: socket }, TIMEOUT_MS);
    const stop = new AbortController();
    const reasons: string[] = [];
    const bound = setTimeout(() => stop.abort(), 20_000);
    await followEvents(engine, {
      onEvent() {},
      onConnected() {},
      onDisconnected(reason) {
        reasons.push(reason);
        stop.abort();
      },
    }, { signal: stop.signal, initialBackoffMs: 10 });
    clearTimeout(bound);
    assert.deepEqual(reasons, ["timed out after 400 ms"]);
    await engine.client.close();
  });
});

Deno.test("LineSplitter joins lines across chunks and refuses one over its bound", () => {
  const enc = new TextEncoder();
  const dec = (lines: Uint8Array[]) => lines.map((l) => new TextDecoder().decode(l));
  const s = new LineSplitter(8);
  assert.deepEqual(dec(s.push(enc.encode("ab"))), []);
  assert.deepEqual(dec(s.push(enc.encode("c\nde\n\nf"))), ["abc", "de", ""]);
  assert.deepEqual(dec(s.push(enc.encode("ghijklm\n"))), ["fghijklm"]);
  assert.throws(() => s.push(enc.encode("123456789")), /an event line is over 8 bytes/);
  assert.deepEqual(dec(s.push(enc.encode("ok\n"))), ["ok"], "a refused line leaves nothing");
});

Deno.test({
  name: "engine faults: watch on a truncating engine applies nothing, stays healthy-honest, " +
    "and stops within 5 s on SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withEngine({ "/containers/json": "truncated" }, async (socket) => {
      const dir = await Deno.makeTempDir({ prefix: "lbsync-faults-watch-" });
      const out = `${dir}/haproxy.cfg`;
      await Deno.writeTextFile(out, "live config\n");
      const port = freePort();
      const watch = new WatchProcess([
        "--docker",
        `unix://${socket}`,
        "--docker-timeout",
        "400ms",
        "-t",
        "haproxy",
        "-o",
        out,
        "--status-listen",
        `127.0.0.1:${port}`,
      ]);
      try {
        await watch.untilLog(
          /Not applying: unix:\/\/.* has not been listed yet \(Cannot list containers on .*: the connection closed mid-answer\); the live config stays as it was/,
        );
        // it keeps trying, with backoff
        await watch.until(
          "a second listing attempt",
          () => (watch.log.match(/listing again in \d+ ms/g) ?? []).length >= 2,
        );
        const health = await fetch(`http://127.0.0.1:${port}/healthz`);
        assert.equal(health.status, 503);
        assert.match(
          await health.text(),
          /^unhealthy: unix:\/\/.* has not been listed yet: Cannot list containers on .*: the connection closed mid-answer \(nothing applied\)\n$/,
        );
        assert.equal(await readOr(out), "live config\n", "nothing is written");
      } finally {
        const started = performance.now();
        const status = await watch.stop(10_000);
        const ms = performance.now() - started;
        assert.equal(status.code, 0, watch.log);
        assert.ok(ms < 5_000, `SIGTERM took ${ms} ms`);
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
});

Deno.test({
  name: "engine faults: SIGTERM ends a watch within 5 s while its pass waits on a stalled engine",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withEngine({ "/containers/json": "stall-headers" }, async (socket, requests) => {
      const dir = await Deno.makeTempDir({ prefix: "lbsync-faults-watch-" });
      const watch = new WatchProcess([
        "--docker",
        `unix://${socket}`,
        "--docker-timeout",
        "60s",
        "-t",
        "nginx",
        "-o",
        `${dir}/nginx.conf`,
      ]);
      try {
        await watch.until("the listing request", () => requests.includes("/containers/json"));
      } finally {
        const started = performance.now();
        const status = await watch.stop(10_000);
        const ms = performance.now() - started;
        assert.equal(status.code, 0, watch.log);
        assert.ok(ms < 5_000, `SIGTERM took ${ms} ms`);
        assert.equal(await readOr(`${dir}/nginx.conf`), "", "nothing is written");
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
});
