/**
 * Watch mode's view of the store, on a scripted store and a fake clock: the prefix read in full,
 * then followed; a broken watch keeps the last services, retries with backoff, and on return
 * reads in full before anything changes; events a full read already had are ignored.
 */
import assert from "node:assert/strict";
import { STORE_RETRY_MS, StoreFollower } from "./store_follower.ts";
import { type StoreEntry, StoreError, type StoreEvent } from "../sources/etcd_client.ts";
import { FakeClock } from "../../tests/support/fake_clock.ts";

const value = (port: number) => JSON.stringify({ servers: [{ host: "10.0.0.1", port }] });
const entry = (name: string, port: number, rev: number): StoreEntry => ({
  key: `/lb/${name}`,
  value: value(port),
  modRevision: rev,
});

/** A store whose reads answer from `reads` in turn and whose watches the test drives. */
class ScriptedStore {
  reads: ({ revision: number; entries: StoreEntry[] } | Error)[] = [];
  watchFrom: number[] = [];
  #watch: { events(e: StoreEvent[]): void; fail(e: Error): void } | undefined;

  range(): Promise<{ revision: number; entries: StoreEntry[] }> {
    const next = this.reads.shift();
    if (next === undefined) {
      return Promise.reject(new StoreError("etcd unreachable: no more reads", true));
    }
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }

  watch(
    _prefix: string,
    start: number,
    handlers: { opened(member: string): void; events(events: StoreEvent[]): void },
    signal: AbortSignal,
  ): Promise<void> {
    this.watchFrom.push(start);
    return new Promise((resolve, reject) => {
      handlers.opened("m0");
      this.#watch = { events: handlers.events, fail: reject };
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  send(events: StoreEvent[]): void {
    this.#watch!.events(events);
  }

  breakWatch(): void {
    this.#watch!.fail(new StoreError("etcd m0: the connection closed mid-answer", true));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const ports = (f: StoreFollower) =>
  f.current()?.services.map((s) => `${s.name}:${s.servers.map((x) => x.port).join("+")}`).join(" ");

Deno.test("store follower: a full read, then events; a broken watch keeps the last services and reads in full on return", async () => {
  const store = new ScriptedStore();
  const clock = new FakeClock();
  clock.settle = async () => {
    for (let i = 0; i < 5; i++) await tick();
  };
  const follower = new StoreFollower(store, "/lb/", "etcd://m0/lb", clock);
  const states: string[] = [];
  follower.onState((s) => states.push(`${s.state}@${s.revision}`));
  let changes = 0;
  const stop = new AbortController();
  store.reads.push({ revision: 5, entries: [entry("web", 80, 4)] });
  const following = follower.follow(() => changes++, stop.signal);
  await clock.settle();
  assert.equal(ports(follower), "web:80");
  assert.deepEqual([changes, store.watchFrom, states], [1, [6], ["connected@5"]]);

  // t=0 a put and a delete; an event the read already had is ignored
  store.send([{ type: "put", entry: entry("api", 81, 6) }]);
  store.send([{ type: "put", entry: entry("web", 99, 4) }]);
  assert.equal(ports(follower), "api:81 web:80");
  store.send([{ type: "delete", entry: { key: "/lb/api", value: "", modRevision: 7 } }]);
  assert.equal(ports(follower), "web:80");
  assert.equal(changes, 3);

  // the watch breaks and the store is gone: the last services stay, retries back off
  store.breakWatch();
  store.reads.push(new StoreError("etcd unreachable: connection refused", true));
  await clock.settle();
  assert.deepEqual(states.at(-1), "unreachable@7");
  assert.equal(follower.failure(), "etcd m0: the connection closed mid-answer");
  assert.deepEqual(clock.pending, [STORE_RETRY_MS.first]);
  await clock.advance(STORE_RETRY_MS.first); // t=250 the read fails: the next try at t=750
  assert.deepEqual(clock.pending, [STORE_RETRY_MS.first * 2]);
  assert.equal(ports(follower), "web:80");
  assert.equal(follower.failure(), "etcd unreachable: connection refused");

  // t=750 back: read in full (what changed meanwhile), then followed from the read's revision
  store.reads.push({ revision: 12, entries: [entry("web", 82, 11), entry("new", 83, 12)] });
  await clock.advance(STORE_RETRY_MS.first * 2);
  assert.equal(ports(follower), "new:83 web:82");
  assert.deepEqual(store.watchFrom, [6, 13]);
  assert.deepEqual(states.slice(-1), ["connected@12"]);
  assert.equal(changes, 4);

  // a resync reads in full: a change the watch missed is applied; a failed read changes nothing
  store.reads.push({ revision: 15, entries: [entry("web", 84, 15)] });
  await follower.refresh();
  assert.deepEqual([ports(follower), changes], ["web:84", 5]);
  await follower.refresh();
  assert.deepEqual([ports(follower), changes, follower.failure()], ["web:84", 5, undefined]);

  stop.abort();
  await following;
});

Deno.test("store follower: a bad value is skipped with its key named, the rest applies", async () => {
  const store = new ScriptedStore();
  const follower = new StoreFollower(store, "/lb/", "etcd://m0/lb", new FakeClock());
  store.reads.push({
    revision: 3,
    entries: [entry("web", 80, 2), { key: "/lb/bad", value: '{"servers":"x"}', modRevision: 3 }],
  });
  assert.equal(await follower.readAll(), true);
  assert.equal(ports(follower), "web:80");
  assert.deepEqual(follower.current()?.warnings, [
    "store key /lb/bad skipped: $.servers: expected an array",
  ]);
  store.reads.push({ revision: 3, entries: [] });
  assert.equal(
    await follower.readAll(),
    false,
    "a read no newer than what is in force changes nothing",
  );
  assert.equal(ports(follower), "web:80");
});
