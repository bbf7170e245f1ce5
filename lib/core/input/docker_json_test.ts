import assert from "node:assert/strict";
import { buildModel, containersFromDockerApi } from "../../../mod.ts";
import { DockerError } from "../errors.ts";
import { parseJson } from "../util/json_access.ts";
import { sha1 } from "../util/sha1.ts";
import { fixtureContainers, fixtureJson } from "../../../tests/support/fixtures.ts";

const summaries = fixtureContainers("containers-summary.json");
const inspects = fixtureContainers("containers-inspect.json");

Deno.test("containersFromDockerApi() reads every summary and inspect object of a real engine", () => {
  assert.equal(summaries.length, (fixtureJson("containers-summary.json") as unknown[]).length);
  assert.equal(inspects.length, summaries.length);
  assert.deepEqual(summaries.map((c) => c.name), inspects.map((c) => c.name));
});

Deno.test("containersFromDockerApi() gives the same ContainerInfo for a summary and its inspect object", () => {
  for (const [i, s] of summaries.entries()) {
    const x = inspects[i];
    assert.equal(s.id, x.id);
    assert.equal(s.image, x.image, s.name);
    assert.deepEqual(s.labels, x.labels, s.name);
    assert.equal(s.state, x.state, s.name);
    assert.equal(s.health, x.health, s.name);
    assert.equal(s.networkMode, x.networkMode, s.name);
    // a stopped container has no ports in its summary, its exposed ports in inspect
    if (s.state === "running") assert.deepEqual(s.ports, x.ports, s.name);
    if (s.state === "running") assert.deepEqual(s.networks, x.networks, s.name);
    // summaries count seconds, inspect objects nanoseconds
    assert.equal(s.created, Math.floor(x.created / 1000) * 1000, s.name);
  }
});

Deno.test("containersFromDockerApi() reads health from the summary Status text", () => {
  const health = Object.fromEntries(summaries.map((c) => [c.name, c.health]));
  assert.equal(health["fx-healthy"], "healthy");
  assert.equal(health["fx-unhealthy"], "unhealthy");
  assert.equal(health["fx-starting"], "starting");
  assert.equal(health["fx-web-1"], "none");
});

Deno.test("containersFromDockerApi() reads networks, exposed and published ports", () => {
  const byName = Object.fromEntries(inspects.map((c) => [c.name, c]));
  assert.deepEqual(byName["fx-two-nets"].networks.map((n) => n.name), ["bridge", "fx-app"]);
  assert.match(byName["fx-web-1"].networks[0].ip, /^\d+\.\d+\.\d+\.\d+$/);
  assert.deepEqual(byName["fx-multi-port"].ports.map((p) => p.port), [8080, 9000]);
  const api = byName["fx-api-1"].ports[0];
  assert.equal(api.published.length, 1);
  assert.equal(api.published[0].hostIp, "127.0.0.1");
  assert.ok(api.published[0].hostPort > 1024);
  const statics = byName["fx-static"].ports[0].published.map((b) => b.hostIp);
  assert.deepEqual(statics, ["0.0.0.0", "::"]);
  assert.equal(byName["fx-stopped"].state, "exited");
});

Deno.test("containersFromDockerApi() sorts by name and takes a single object", () => {
  const one = containersFromDockerApi((fixtureJson("containers-inspect.json") as unknown[])[0]);
  assert.equal(one.length, 1);
  const names = summaries.map((c) => c.name);
  assert.deepEqual(names, [...names].sort());
});

Deno.test("containersFromDockerApi() keeps the container's own name, not link aliases", () => {
  const [c] = containersFromDockerApi([{ Id: "abc", Names: ["/app/db", "/db"], Labels: {} }]);
  assert.equal(c.name, "db");
});

Deno.test("containersFromDockerApi() refuses JSON that is not Docker's, naming the item", () => {
  assert.throws(() => containersFromDockerApi([{}]), {
    name: "DockerError",
    message: 'Cannot read containers from Docker API JSON: item 0 is not a container (no "Id")',
  });
  assert.throws(
    () => containersFromDockerApi([{ Id: "0123456789abcdef" }], { source: "x.json" }),
    (e) =>
      e instanceof DockerError && /x\.json: item 0 \(0123456789ab\) is neither/.test(e.message),
  );
  assert.throws(() => containersFromDockerApi("text"), DockerError);
  assert.throws(() => containersFromDockerApi(null), DockerError);
});

Deno.test("containersFromDockerApi() ignores non-string labels and odd field types", () => {
  const [c] = containersFromDockerApi([{
    Id: "abc",
    Names: ["/x"],
    Labels: { a: "1", b: 2, c: null },
    Ports: [null, { PrivatePort: "80" }, { PrivatePort: 80, Type: "tcp", PublicPort: 8080 }],
    NetworkSettings: { Networks: { n: null } },
    Created: "yesterday",
  }]);
  assert.deepEqual(c.labels, { a: "1" });
  assert.deepEqual(c.ports, [{
    port: 80,
    protocol: "tcp",
    published: [{ hostIp: "", hostPort: 8080 }],
  }]);
  assert.deepEqual(c.networks, [{ name: "n", ip: "", ipv6: "" }]);
  assert.equal(c.created, 0);
});

Deno.test("a port outside 1..65535 in an engine's answer is no port (of any source)", () => {
  const summary = (fixtureJson("containers-summary.json") as Record<string, unknown>[])[0];
  const hostile = {
    ...summary,
    Ports: [
      { PrivatePort: 65536, Type: "tcp" },
      { PrivatePort: 8080, PublicPort: 70000, IP: "0.0.0.0", Type: "tcp" },
      { PrivatePort: 0, Type: "tcp" },
      { PrivatePort: 1.5, Type: "tcp" },
    ],
  };
  const [c] = containersFromDockerApi([hostile]);
  assert.deepEqual(c.ports, [{ port: 8080, protocol: "tcp", published: [] }]);
  // a library caller's ContainerInfo skips that parsing: the model holds the same rule
  const { model, skipped } = buildModel([{
    ...c,
    labels: { "lbsync.service": "x" },
    ports: [{ port: 65536, protocol: "tcp", published: [] }],
  }]);
  assert.deepEqual(model.services.flatMap((s) => s.servers), []);
  assert.match(skipped[0].reason, /exposes no tcp port/);
});

Deno.test("parseJson() refuses nesting deeper than its bound, and reads the rest as JSON.parse", () => {
  assert.throws(
    () => parseJson("[".repeat(65) + "]".repeat(65)),
    /nested deeper than 64 levels at position 64/,
  );
  assert.deepEqual(
    parseJson('{"a":"[[[[\\"{{{"}'),
    { a: '[[[["{{{' },
    "brackets in strings do not count",
  );
  assert.ok(Array.isArray(parseJson("[".repeat(64) + "]".repeat(64))));
});

Deno.test("sha1() gives what node:crypto gives, for any text (multi-block, UTF-8)", async () => {
  const { createHash } = await import("node:crypto");
  const texts = ["", "abc", "a".repeat(55), "a".repeat(56), "a".repeat(64), "é€😀".repeat(50)];
  for (let i = 0; i < 200; i++) {
    texts.push(
      String.fromCharCode(
        ...Array.from({ length: i * 7 }, (_, j) => 32 + ((i * 31 + j * 17) % 9000)),
      ),
    );
  }
  for (const text of texts) {
    assert.equal(
      sha1(text),
      createHash("sha1").update(text).digest("hex"),
      `length ${text.length}`,
    );
  }
});
