/**
 * Several managers of one Swarm are one source: read from the manager in use, the next when it
 * fails, never merged. Fake engines stand for managers here (the failures are injected); the
 * real cluster is tests/swarm/cluster_test.ts.
 */
import assert from "node:assert/strict";
import { SwarmManagers } from "./swarm_managers.ts";
import type { DockerEngine } from "./docker.ts";
import { container } from "../../tests/support/fixtures.ts";

function fakeManager(url: string, state: { up: boolean }, calls: string[]): DockerEngine {
  return {
    endpoint: { url },
    list: () => {
      calls.push(url);
      return state.up
        ? Promise.resolve([container(`task-from-${url}`)])
        : Promise.reject(new Error(`${url} is down`));
    },
  } as unknown as DockerEngine;
}

Deno.test("swarm managers: one answers for the cluster; when it fails the next one does", async () => {
  const calls: string[] = [];
  const up = [{ up: true }, { up: true }, { up: true }];
  const managers = new SwarmManagers(
    ["m1", "m2", "m3"].map((u, i) => fakeManager(u, up[i], calls)),
  );
  assert.equal(managers.url, "swarm:m1,m2,m3");
  assert.deepEqual((await managers.list()).map((c) => c.name), ["task-from-m1"]);
  assert.deepEqual(calls, ["m1"], "one manager read, not three merged");
  up[0].up = false;
  assert.deepEqual((await managers.list()).map((c) => c.name), ["task-from-m2"]);
  assert.equal(managers.current.endpoint.url, "m2");
  up[0].up = true;
  await managers.list();
  assert.equal(managers.current.endpoint.url, "m2", "stays with the manager that answers");
  up[1].up = false;
  up[2].up = false;
  await managers.list();
  assert.equal(managers.current.endpoint.url, "m1");
  up[0].up = false;
  await assert.rejects(
    managers.list(),
    /^DockerError: No Swarm manager answered: m1 is down; m2 is down; m3 is down$/,
  );
});
