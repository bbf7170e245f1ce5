/**
 * What `explain` and `route` say is what `render` writes: given the same arguments (flags or a
 * `--config` file, the htpasswd directory, the listen port, the name prefix),
 * every route `render` writes is the one `route` finds, with the same backend and basic auth,
 * and the one `explain` describes. The routes come from `render` itself, through a template
 * that prints its routing table.
 */
import assert from "node:assert/strict";
import { containerSummaries } from "../support/fixtures.ts";
import { lbsync } from "../support/cli.ts";

/** One line per route the model holds: port, host (`-`: the default routes), path, backend, auth. */
const TABLE_TEMPLATE = "{{#httpListeners}}" +
  "{{#virtualHosts}}{{#routes}}{{port}} {{host}} {{path}} {{backend}} {{#auth}}{{path}}{{/auth}}\n" +
  "{{/routes}}{{/virtualHosts}}" +
  "{{#defaultRoutes}}{{port}} - {{path}} {{backend}} {{#auth}}{{path}}{{/auth}}\n" +
  "{{/defaultRoutes}}{{/httpListeners}}";

interface TableLine {
  port: number;
  host: string;
  path: string;
  backend: string;
  auth: string;
}

function table(text: string): TableLine[] {
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => {
    const [port, host, path, backend, auth = ""] = l.trim().split(" ");
    return { port: Number(port), host, path, backend, auth };
  });
}

async function setUp(): Promise<{ dir: string; source: string; htpasswd: string; tpl: string }> {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-report-inputs-" });
  const item = (name: string, labels: Record<string, string>) => ({
    name,
    ip: "10.0.0.2",
    labels: { "lbsync.port": "8080", ...labels },
  });
  const source = `${dir}/containers.json`;
  await Deno.writeTextFile(
    source,
    containerSummaries([
      item("admin-1", { "lbsync.service": "admin", "lbsync.host": "a.test" }),
      item("api-1", { "lbsync.service": "api", "lbsync.host": "b.test", "lbsync.path": "/api/" }),
      item("web-1", { "lbsync.service": "web", "lbsync.host": "b.test" }),
      item("root-1", { "lbsync.service": "root" }),
    ]),
  );
  const htpasswd = `${dir}/htpasswd`;
  await Deno.mkdir(htpasswd);
  await Deno.writeTextFile(`${htpasswd}/a.test`, "admin:$apr1$x$y\n");
  const tpl = `${dir}/table.mustache`;
  await Deno.writeTextFile(tpl, TABLE_TEMPLATE);
  return { dir, source, htpasswd, tpl };
}

/** Every route of render's table, asked of route and explain with the same arguments. */
async function assertAgree(args: string[], listen: number): Promise<void> {
  const rendered = await lbsync(["render", ...args, "-q"]);
  assert.equal(rendered.code, 0, rendered.stderr);
  const lines = table(rendered.stdout);
  assert.ok(lines.length >= 4, rendered.stdout);
  assert.ok(lines.some((l) => l.auth !== ""), "some route asks for basic auth");
  assert.ok(lines.every((l) => l.port === listen), rendered.stdout);

  const explained = await lbsync(["explain", ...args, "--format", "json"]);
  assert.equal(explained.code, 0, explained.stderr);
  const rows = JSON.parse(explained.stdout).containers as { service: string; reason: string }[];
  for (const line of lines) {
    const host = line.host === "-" ? "unknown.invalid" : line.host;
    for (const url of [`http://${host}:${line.port}${line.path}`, `http://${host}${line.path}`]) {
      const r = await lbsync(["route", url, ...args, "--format", "json", "-q"]);
      assert.equal(r.code, 0, r.stderr);
      const answer = JSON.parse(r.stdout);
      assert.equal(answer.kind, "routed", `${url}: ${r.stdout}`);
      assert.equal(answer.backend, line.backend, url);
      assert.equal(answer.path, line.path, url);
      assert.equal(answer.auth?.path ?? "", line.auth, `${url}: basic auth as render wrote it`);
      const row = rows.find((x) => x.service === answer.service)!;
      assert.match(row.reason, new RegExp(` on port ${line.port}\\b`), row.reason);
      if (line.auth) assert.match(row.reason, new RegExp(`; basic auth ${line.host}${line.path}`));
    }
  }
}

Deno.test("render, explain and route see one model: the same flags", async () => {
  const { dir, source, htpasswd, tpl } = await setUp();
  try {
    await assertAgree([
      "--from-file",
      source,
      "--listen",
      "18481",
      "--htpasswd-dir",
      htpasswd,
      "--name-prefix",
      "edge_",
      "-t",
      tpl,
      "-o",
      "-",
    ], 18481);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("render, explain and route see one model: the same --config file", async () => {
  const { dir, source, htpasswd, tpl } = await setUp();
  try {
    const config = `${dir}/lbsync.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        "from-file": source,
        listen: 18480,
        "htpasswd-dir": htpasswd,
        targets: [{ template: tpl, output: "-" }],
      }),
    );
    await assertAgree(["--config", config], 18480);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
