/**
 * Start-up cannot grow unnoticed: what `--version` and `help` load, and what the one-shot
 * commands load, are held to lists here (from `deno info`'s graph, following only the
 * imports that load at run time: not `import type`, not dynamic `import()`). A timed test
 * would be flaky; a module list is exact.
 */
import assert from "node:assert/strict";
import { ROOT } from "../support/fixtures.ts";
import { run } from "../support/tools.ts";

interface Graph {
  roots: string[];
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier?: string }; isDynamic?: boolean }[];
  }[];
}

const info = await run([Deno.execPath(), "info", "--json", `${ROOT}/cli.ts`], { cwd: ROOT });
const graph: Graph = JSON.parse(info.stdout);
const byName = new Map(graph.modules.map((m) => [m.specifier, m]));

/** The modules `entry` loads before it runs, relative to the checkout. */
function loadedBy(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    for (const dep of byName.get(s)?.dependencies ?? []) {
      if (!dep.isDynamic && dep.code?.specifier) stack.push(dep.code.specifier);
    }
  }
  return [...seen].map((s) => s.replace(`file://${ROOT}/`, "").replace(/^file:\/\/.*\/main\//, ""))
    .sort();
}

const url = (path: string) => `file://${ROOT}/${path}`;

Deno.test("--version and help load the argument parser and little else, and no npm or node: module", () => {
  const loaded = loadedBy(graph.roots[0]);
  assert.ok(loaded.length <= 30, `${loaded.length} modules: ${loaded.join(" ")}`);
  const heavy = loaded.filter((m) =>
    /^(lib\/(watch|apply|serve|acme|haproxy)\/|lib\/sources\/(engine_client|docker|store|etcd_client)\.ts|npm:|node:)/
      .test(m)
  );
  assert.deepEqual(heavy, []);
});

Deno.test("the one-shot commands load neither watch mode's servers nor ACME nor the differ, the HAProxy runtime client, the etcd client (only with --store) or the reports, and no npm or node: module (each would start Deno's Node compatibility layer)", () => {
  const loaded = loadedBy(url("lib/cli/commands.ts"));
  const unwanted = loaded.filter((m) =>
    /^(lib\/(serve|acme|haproxy)\/|lib\/cli\/(watch|store)_command\.ts|lib\/sources\/(store|etcd_client)\.ts|lib\/watch\/store_follower\.ts|lib\/core\/util\/diff\.ts|lib\/core\/(explain|route_request)\.ts|npm:|node:)/
      .test(m)
  );
  assert.deepEqual(unwanted, []);
  assert.ok(loaded.length <= 90, `${loaded.length} modules`);
});
