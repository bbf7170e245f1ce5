import assert from "node:assert/strict";
import { buildModel } from "../../../mod.ts";
import { containersFromSwarm } from "./swarm_json.ts";

// The shapes of `GET /services`, `GET /tasks` and `GET /nodes` (Docker 20.10), trimmed to the
// fields lbsync reads; tests/swarm/single_node_test.ts runs the same path against a real swarm.
const service = {
  ID: "svc1aaaaaaaaaaaaaaaaaaaaa",
  CreatedAt: "2026-11-21T10:00:00Z",
  Spec: {
    Name: "web",
    Labels: { "lbsync.service": "web", "lbsync.host": "web.test" },
    TaskTemplate: { ContainerSpec: { Image: "app:1" } },
  },
  Endpoint: {
    Ports: [{ Protocol: "tcp", TargetPort: 8080, PublishMode: "host" }],
    VirtualIPs: [{ NetworkID: "net1", Addr: "10.0.1.2/24" }],
  },
};
const task = (
  id: string,
  slot: number,
  node: string,
  ip: string,
  published: number,
  state = "running",
) => ({
  ID: id,
  ServiceID: "svc1aaaaaaaaaaaaaaaaaaaaa",
  NodeID: node,
  Slot: slot,
  CreatedAt: `2026-11-21T10:00:0${slot}Z`,
  DesiredState: "running",
  Status: {
    State: state,
    PortStatus: {
      Ports: [{ Protocol: "tcp", TargetPort: 8080, PublishedPort: published, PublishMode: "host" }],
    },
  },
  Spec: { ContainerSpec: { Image: "app:1" } },
  NetworksAttachments: [{
    Network: { ID: "net1", Spec: { Name: "app-net" } },
    Addresses: [`${ip}/24`],
  }],
});
const nodes = [
  { ID: "n1", Spec: { Availability: "active" }, Status: { State: "ready", Addr: "192.0.2.10" } },
  { ID: "n2", Spec: { Availability: "drain" }, Status: { State: "ready", Addr: "192.0.2.11" } },
  { ID: "n3", Spec: { Availability: "active" }, Status: { State: "down", Addr: "192.0.2.12" } },
];
const listing = {
  services: [service],
  tasks: [
    task("task1aaaaaaaaaaaaaaaaaaaa", 1, "n1", "10.0.1.5", 30001),
    task("task2bbbbbbbbbbbbbbbbbbbb", 2, "n2", "10.0.1.6", 30002),
    task("task3cccccccccccccccccccc", 3, "n3", "10.0.1.7", 30003),
  ],
  nodes,
};

Deno.test("containersFromSwarm(): each running task, with the service's labels and the task's addresses", () => {
  const cs = containersFromSwarm(listing);
  assert.deepEqual(cs.map((c) => [c.name, c.state]), [
    ["web.1.task1aaaaaaa", "running"],
    ["web.2.task2bbbbbbb", "node-drain"],
    ["web.3.task3ccccccc", "node-down"],
  ]);
  assert.deepEqual(cs[0].labels, service.Spec.Labels);
  assert.deepEqual(cs[0].networks, [{ name: "app-net", ip: "10.0.1.5", ipv6: "" }]);
  assert.deepEqual(cs[0].ports, [{
    port: 8080,
    protocol: "tcp",
    published: [{ hostIp: "192.0.2.10", hostPort: 30001 }],
  }]);
});

Deno.test("Swarm tasks in the model: network and published addresses; drained and down nodes out", () => {
  const byNetwork = buildModel(containersFromSwarm(listing));
  assert.deepEqual(byNetwork.model.services[0].servers.map((s) => s.endpoint), ["10.0.1.5:8080"]);
  assert.deepEqual(byNetwork.skipped.map((s) => s.reason), [
    'not running (state "node-drain")',
    'not running (state "node-down")',
  ]);
  const published = buildModel(containersFromSwarm(listing), { address: "published" });
  assert.deepEqual(published.model.services[0].servers.map((s) => s.endpoint), [
    "192.0.2.10:30001",
  ]);
});

Deno.test("containersFromSwarm() with vip: one server per service, its virtual IP", () => {
  const { model } = buildModel(containersFromSwarm(listing, { vip: true }), { network: "app-net" });
  assert.deepEqual(model.services[0].servers.map((s) => `${s.name} ${s.endpoint}`), [
    "web 10.0.1.2:8080",
  ]);
});

Deno.test("swarm: a manager that reports 0.0.0.0 is reached at its advertised address", () => {
  const manager = {
    ID: "n1",
    Spec: { Availability: "active" },
    Status: { State: "ready", Addr: "0.0.0.0" },
    ManagerStatus: { Leader: true, Addr: "192.0.2.20:2377" },
  };
  const [c] = containersFromSwarm({
    services: [service],
    tasks: [task("task1aaaaaaaaaaaaaaaaaaaa", 1, "n1", "10.0.1.5", 30001)],
    nodes: [manager],
  });
  assert.deepEqual(c.ports[0].published, [{ hostIp: "192.0.2.20", hostPort: 30001 }]);
});
