import assert from "node:assert/strict";
import { createLogger } from "./log.ts";
import { lbsync } from "../../tests/support/cli.ts";

Deno.test("text logs escape control characters: a newline cannot forge a log line", () => {
  const lines: string[] = [];
  const log = createLogger({ format: "text", level: 2 }, (line) => lines.push(line));
  log.warn("container evil\nlbsync: applied /etc/nginx/x.conf skipped", {
    name: "a\u0001b",
    why: "x\ny",
  });
  assert.equal(lines.length, 1);
  assert.equal(
    lines[0],
    'lbsync: warning: container evil\\nlbsync: applied /etc/nginx/x.conf skipped name="a\\u0001b" why="x\\ny"',
  );
  assert.ok(!lines[0].includes("\n"));
});

Deno.test("a container name or label key with a newline stays on one log line", async () => {
  const json = JSON.stringify([{
    Id: "a".repeat(64),
    Names: ["/evil"],
    Image: "app",
    Created: 1_700_000_000,
    State: "running",
    Labels: { "lbsync.service": "evil", "lbsync.typo\nlbsync: error: forged": "x" },
    Ports: [{ PrivatePort: 8080, Type: "tcp" }],
    HostConfig: { NetworkMode: "app" },
    NetworkSettings: { Networks: { app: { IPAddress: "10.0.0.2" } } },
  }]);
  const r = await lbsync(["render", "--from-file", "-", "-t", "nginx", "-o", "-"], json);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.ok(lines.every((l) => l.startsWith("lbsync: ")), r.stderr);
  assert.ok(!lines.some((l) => l.startsWith("lbsync: error: forged")), r.stderr);
  // the warning that carries the key was written, escaped
  assert.ok(r.stderr.includes("unknown label lbsync.typo\\nlbsync: error: forged"), r.stderr);
});
