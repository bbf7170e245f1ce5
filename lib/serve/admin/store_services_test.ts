/**
 * The admin API's store backend on an in-memory store with etcd's transaction rule (a compare
 * on a key's mod revision, 0 when absent): a lost race is redone on what won, endless races end
 * in 409, an unreachable store in 503, a refused apply is undone (422).
 */
import assert from "node:assert/strict";
import { EDIT_ATTEMPTS, storeServices } from "./store_services.ts";
import { AdminError, putServer, putService } from "./config_edits.ts";
import { type StoreEntry, StoreError } from "../../sources/etcd_client.ts";

/** etcd's keys and revisions, in memory; `beforeTxn` runs before each transaction. */
class MemoryStore {
  revision = 1;
  readonly keys = new Map<string, StoreEntry>();
  txns = 0;
  beforeTxn: () => void = () => {};
  down = false;

  put(key: string, value: string): void {
    this.revision++;
    this.keys.set(key, { key, value, modRevision: this.revision });
  }

  range(prefix: string): Promise<{ revision: number; entries: StoreEntry[] }> {
    if (this.down) {
      return Promise.reject(new StoreError("etcd unreachable: connection refused", true));
    }
    const entries = [...this.keys.values()].filter((e) => e.key.startsWith(prefix));
    return Promise.resolve({ revision: this.revision, entries });
  }

  txn(
    compares: { key: string; modRevision: number }[],
    ops: { key: string; value?: string }[],
  ): Promise<{ succeeded: boolean; revision: number }> {
    this.txns++;
    this.beforeTxn();
    const holds = compares.every((c) => (this.keys.get(c.key)?.modRevision ?? 0) === c.modRevision);
    if (!holds) return Promise.resolve({ succeeded: false, revision: this.revision });
    this.revision++;
    for (const op of ops) {
      if (op.value === undefined) this.keys.delete(op.key);
      else this.keys.set(op.key, { key: op.key, value: op.value, modRevision: this.revision });
    }
    return Promise.resolve({ succeeded: true, revision: this.revision });
  }
}

const web = { name: "web", servers: [{ host: "10.0.0.1", port: 80 }] };

function backendOn(
  store: MemoryStore,
  apply: () => Promise<string | undefined> = () => Promise.resolve(undefined),
) {
  let catchUps = 0;
  const backend = storeServices({
    client: store,
    prefix: "/lb/",
    apply,
    catchUp: () => Promise.resolve(catchUps++),
  });
  return { backend, catchUps: () => catchUps };
}

const serversOf = (store: MemoryStore) =>
  JSON.parse(store.keys.get("/lb/web")!.value).servers.map((s: { port: number }) => s.port);

Deno.test("store backend: an edit that lost a race is redone on what won; neither change is lost", async () => {
  const store = new MemoryStore();
  store.put("/lb/web", JSON.stringify(web));
  let raced = false;
  store.beforeTxn = () => {
    if (raced) return;
    raced = true; // another instance adds a server between this one's read and its transaction
    store.put(
      "/lb/web",
      JSON.stringify({ ...web, servers: [...web.servers, { host: "10.0.0.1", port: 81 }] }),
    );
  };
  const { backend, catchUps } = backendOn(store);
  const doc = await backend.change((d) => putServer(d, "web", "10.0.0.1-82", {}));
  assert.deepEqual(serversOf(store), [80, 81, 82]);
  assert.equal(store.txns, 2);
  assert.equal(catchUps(), 1, "the local view is brought up to date before the apply");
  assert.deepEqual((doc.services as { servers: unknown[] }[])[0].servers.length, 3);
});

Deno.test(`store backend: an edit that loses ${EDIT_ATTEMPTS} races answers 409 and writes nothing of its own`, async () => {
  const store = new MemoryStore();
  store.put("/lb/web", JSON.stringify(web));
  store.beforeTxn = () => store.put("/lb/web", JSON.stringify(web));
  const { backend } = backendOn(store);
  await assert.rejects(
    backend.change((d) => putServer(d, "web", "10.0.0.1-82", {})),
    (e) =>
      e instanceof AdminError && e.status === 409 &&
      /lost to concurrent edits 8 times/.test(e.message),
  );
  assert.equal(store.txns, EDIT_ATTEMPTS);
  assert.deepEqual(serversOf(store), [80]);
});

Deno.test("store backend: an unreachable store answers 503 with the reason", async () => {
  const store = new MemoryStore();
  store.down = true;
  const { backend } = backendOn(store);
  await assert.rejects(
    backend.change((d) => putService(d, "web", web)),
    (e) =>
      e instanceof AdminError && e.status === 503 &&
      e.message === "store: etcd unreachable: connection refused",
  );
  await assert.rejects(backend.read(), (e) => e instanceof AdminError && e.status === 503);
});

Deno.test("store backend: an apply the balancer refuses is undone in the store (422)", async () => {
  const store = new MemoryStore();
  store.put("/lb/web", JSON.stringify(web));
  const applied: string[] = [];
  const { backend } = backendOn(store, () => {
    applied.push(serversOf(store).join());
    return Promise.resolve(applied.length === 1 ? "nginx -t: host not found" : undefined);
  });
  await assert.rejects(
    backend.change((d) => putServer(d, "web", "10.0.0.1-82", {})),
    (e) =>
      e instanceof AdminError && e.status === 422 &&
      e.message === "not applied, the store is restored: nginx -t: host not found",
  );
  assert.deepEqual(serversOf(store), [80]);
  assert.deepEqual(applied, ["80,82", "80"]);
  // a new service refused: the undo deletes it
  applied.length = 0;
  await assert.rejects(
    backend.change((d) => putService(d, "api", { servers: [] })),
    (e) => e instanceof AdminError && e.status === 422,
  );
  assert.equal(store.keys.has("/lb/api"), false);
});
