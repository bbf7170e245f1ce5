/** `explain` on hostile input: every cell escaped, every list bounded. */
import assert from "node:assert/strict";
import { buildModel } from "../../mod.ts";
import { EXPLAIN_LIST_LIMIT, explainRows, formatExplainTable } from "./explain.ts";
import { container, resetContainers } from "../../tests/support/fixtures.ts";
import { lbsync } from "../../tests/support/cli.ts";

Deno.test("explain escapes line breaks, NUL, C1 and bidirectional controls in every cell", async () => {
  resetContainers();
  const names = ["a\nFAKE  in  web  1.2.3.4:80", "b\u0000c", "d\u202eevil", "e\u009bf", "g\u2066h"];
  const { model, skipped } = buildModel(
    names.map((n) => container(n, { "lbsync.service": "web", "lbsync.port": "70000" })),
  );
  const table = formatExplainTable(explainRows({ model, skipped, warnings: ["w\r\nx"] }), [
    "w\r\nx",
  ]);
  const lines = table.split("\n");
  assert.equal(lines.length, 1 + names.length + 4, "one line per row: nothing forged");
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(table, /[\u0000\u202e\u2066\u009b\r]/);
  assert.match(table, /a\\nFAKE/);
  assert.match(table, /d\\u202eevil/);
  // the CLI prints what the file gives, escaped the same way
  const summaries = JSON.stringify([{
    Id: "a".repeat(64),
    Names: ["/x\n\u202ey"],
    State: "running",
    Labels: { "lbsync.service": "web" },
    Ports: [{ PrivatePort: 80, Type: "tcp" }],
    NetworkSettings: { Networks: { app: { IPAddress: "10.0.0.2" } } },
  }]);
  const r = await lbsync(["explain", "--from-file", "-"], summaries);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /x\\n\\u202ey/);
  assert.equal(r.stdout.trim().split("\n").length, 2);
});

Deno.test("explain bounds the lists it prints: hosts beyond the limit are counted", () => {
  resetContainers();
  const hosts = Array.from({ length: 100 }, (_, i) => `h${i}.test`).join(",");
  const { model, skipped } = buildModel([
    container("web-1", { "lbsync.service": "web", "lbsync.host": hosts }),
  ]);
  const [row] = explainRows({ model, skipped, warnings: [] });
  assert.equal(row.reason.split(",").length, EXPLAIN_LIST_LIMIT);
  assert.match(row.reason, / \(and 80 more\) /);
  assert.ok(row.reason.length < 1000, `${row.reason.length} characters`);
});
