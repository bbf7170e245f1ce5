import assert from "node:assert/strict";
import { classifyEvent } from "./docker_events.ts";

const container = (Action: string, Attributes: Record<string, string> = {}) =>
  classifyEvent({ Type: "container", Action, Actor: { ID: "c1", Attributes } });

Deno.test("classifyEvent(): the container events that change the backend list", () => {
  for (
    const action of [
      "start",
      "die",
      "stop",
      "destroy",
      "pause",
      "unpause",
      "rename",
      "health_status: healthy",
      "health_status: unhealthy",
    ]
  ) {
    assert.equal(container(action).relevant, true, action);
  }
  assert.equal(container("health_status: unhealthy").kind, "health_status");
  for (const action of ["create", "exec_start: sh", "exec_die", "attach", "top", "resize"]) {
    assert.equal(container(action).relevant, false, action);
  }
});

Deno.test("classifyEvent(): a kill that ends the container starts draining; a reload signal does not", () => {
  assert.equal(container("kill", { signal: "15" }).stopping, true);
  assert.equal(container("kill", { signal: "9" }).stopping, true);
  assert.equal(container("kill", { signal: "1" }).stopping, false, "SIGHUP reloads");
  assert.equal(container("kill", { signal: "10" }).stopping, false);
  assert.equal(container("start").settled, true);
  assert.equal(container("die").settled, true);
});

Deno.test("classifyEvent(): network connect and disconnect concern the attached container", () => {
  const e = classifyEvent({
    Type: "network",
    Action: "disconnect",
    Actor: { ID: "net1", Attributes: { container: "c9" } },
  });
  assert.deepEqual(e, {
    kind: "network disconnect",
    containerId: "c9",
    relevant: true,
    stopping: false,
    settled: false,
    swarmChange: false,
    timeMs: 0,
  });
  assert.equal(classifyEvent({ Type: "network", Action: "create" }).relevant, false);
  assert.equal(classifyEvent({ Type: "image", Action: "pull" }).relevant, false);
  assert.equal(classifyEvent({}).relevant, false);
});

Deno.test("classifyEvent(): the engine's time of the event, to the millisecond", () => {
  const e = classifyEvent({
    Type: "container",
    Action: "create",
    Actor: { ID: "c1" },
    time: 1795300000,
    timeNano: 1795300000123456789,
  });
  assert.equal(e.timeMs, 1795300000123);
  assert.equal(
    classifyEvent({ Type: "container", Action: "start", time: 1795300000 }).timeMs,
    1795300000000,
  );
});

Deno.test("classifyEvent(): a Swarm service or node change asks for follow-up re-lists", () => {
  const service = classifyEvent({ Type: "service", Action: "update", Actor: { ID: "s" } });
  assert.equal(service.relevant && service.swarmChange, true);
  const node = classifyEvent({ Type: "node", Action: "update", Actor: { ID: "n" } });
  assert.equal(node.swarmChange, true);
  const start = classifyEvent({ Type: "container", Action: "start", Actor: { ID: "c" } });
  assert.equal(start.swarmChange, false);
});
