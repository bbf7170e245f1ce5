/**
 * Golden outputs of the built-in templates, each also validated by real `nginx -t` and
 * `haproxy -c`. Regenerate with `UPDATE_GOLDEN=1 deno task test`.
 */
import assert from "node:assert/strict";
import { buildModel, containersFromDockerApi, render, templates } from "../../mod.ts";
import { explainRows, formatExplainTable } from "../../lib/core/explain.ts";
import { flagOf } from "../../lib/settings/options.ts";
import type { ContainerInfo, ModelOptions } from "../../lib/core/types.ts";
import { haproxyCheck, nginxCheck } from "../support/balancers.ts";
import { container, fixtureContainers, resetContainers, ROOT } from "../support/fixtures.ts";
import { missing, updatingGoldens } from "../support/tools.ts";

const UPDATE = updatingGoldens();

interface GoldenCase {
  name: string;
  containers: () => ContainerInfo[];
  options: ModelOptions;
}

const CASES: GoldenCase[] = [
  {
    name: "fixture-network",
    containers: () => fixtureContainers("containers-summary.json"),
    options: { match: /^fx-(?<service>shop)-\d+$/ },
  },
  {
    name: "fixture-published",
    containers: () => fixtureContainers("containers-inspect.json"),
    options: { address: "published", listen: 8080 },
  },
  {
    name: "example",
    containers: () =>
      containersFromDockerApi(
        JSON.parse(Deno.readTextFileSync(`${ROOT}/examples/containers.json`)),
      ),
    options: {},
  },
  { name: "empty", containers: () => [], options: {} },
  {
    name: "groups",
    containers: () => {
      resetContainers();
      const ports = [8080, 9000].map((port) => ({ port, protocol: "tcp", published: [] }));
      return [
        container("multi-1", {
          "lbsync.web.port": "8080",
          "lbsync.web.host": "example.com",
          "lbsync.admin.port": "9000",
          "lbsync.admin.mode": "tcp",
          "lbsync.admin.listen": "9000",
        }, { ports }),
        container("multi-2", { "lbsync.web.port": "8080", "lbsync.web.host": "example.com" }, {
          ports,
        }),
      ];
    },
    options: {},
  },
  {
    name: "edge",
    containers: () => {
      resetContainers();
      return [
        container("v6-1", { "lbsync.service": "v6", "lbsync.host": "*.example.org" }, {
          networks: [{ name: "app", ip: "", ipv6: "fd00::10" }],
        }),
        container("maint", {
          "lbsync.service": "maint",
          "lbsync.backup": "true",
          "lbsync.listen": "8081",
        }),
        container("gone", { "lbsync.service": "gone", "lbsync.host": "gone.example.org" }, {
          state: "exited",
        }),
        container("gone-db", {
          "lbsync.service": "gone-db",
          "lbsync.mode": "tcp",
          "lbsync.listen": "6000",
        }, { state: "exited" }),
        container("heavy", {
          "lbsync.service": "api",
          "lbsync.host": "example.org",
          "lbsync.path": "/api/v1",
          "lbsync.weight": "256",
          "lbsync.health": "/health?deep=1",
        }),
        container("cache", {
          "lbsync.service": "cache",
          "lbsync.mode": "tcp",
          "lbsync.listen": "6379",
          "lbsync.health": "/",
          "lbsync.port": "6379",
        }),
      ];
    },
    options: { listenAddress: "127.0.0.1" },
  },
];

const OUTPUTS = {
  "nginx.conf": "nginx",
  "nginx-stream.conf": "nginx-stream",
  "haproxy.cfg": "haproxy",
} as const;

function renderCase(c: GoldenCase): Record<string, string> {
  const result = buildModel(c.containers(), c.options);
  const files: Record<string, string> = {};
  for (const [file, template] of Object.entries(OUTPUTS)) {
    files[file] = render(templates[template], result.model);
  }
  files["explain.txt"] = formatExplainTable(explainRows(result, flagOf), result.warnings);
  return files;
}

/** The golden files of `c` as they are on disk. */
async function goldenFiles(c: GoldenCase): Promise<Record<string, string>> {
  const dir = `${ROOT}/tests/golden/${c.name}`;
  const files: Record<string, string> = {};
  for (const file of Object.keys(OUTPUTS)) files[file] = await Deno.readTextFile(`${dir}/${file}`);
  return files;
}

for (const c of CASES) {
  Deno.test(`golden ${c.name}: rendered output matches tests/golden/${c.name}/`, async () => {
    const dir = `${ROOT}/tests/golden/${c.name}`;
    const files = renderCase(c);
    if (UPDATE) await Deno.mkdir(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) {
      if (UPDATE) await Deno.writeTextFile(`${dir}/${file}`, text);
      assert.equal(text, await Deno.readTextFile(`${dir}/${file}`), `${c.name}/${file}`);
    }
  });

  Deno.test({
    name: `golden ${c.name}: real nginx -t accepts the nginx and nginx-stream output`,
    ignore: missing("nginx"),
    async fn() {
      // the files on disk: what the golden test compares the rendered text with
      const files = await goldenFiles(c);
      const result = await nginxCheck({
        http: files["nginx.conf"],
        stream: files["nginx-stream.conf"],
      });
      assert.ok(result.ok, result.output);
      assert.doesNotMatch(result.output, /\[warn\]/);
    },
  });

  Deno.test({
    name: `golden ${c.name}: real haproxy -c accepts the haproxy output`,
    ignore: missing("haproxy"),
    async fn() {
      const result = await haproxyCheck((await goldenFiles(c))["haproxy.cfg"]);
      assert.ok(result.ok, result.output);
    },
  });
}
