/**
 * No import circles: lib/'s modules, reached from mod.ts, cli.ts and main.ts (type imports and
 * dynamic imports included), form no cycle, so each can be read, tested and loaded on its own.
 */
import assert from "node:assert/strict";
import { ROOT } from "../support/fixtures.ts";
import { run } from "../support/tools.ts";

interface Graph {
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
  }[];
}

Deno.test("lib/ has no import circles", async () => {
  const edges = new Map<string, Set<string>>();
  for (const entry of ["mod.ts", "cli.ts", "main.ts"]) {
    const info = await run([Deno.execPath(), "info", "--json", `${ROOT}/${entry}`], { cwd: ROOT });
    assert.equal(info.code, 0, info.stderr);
    for (const m of (JSON.parse(info.stdout) as Graph).modules) {
      if (!m.specifier.startsWith("file://")) continue;
      const to = edges.get(m.specifier) ?? new Set<string>();
      edges.set(m.specifier, to);
      for (const d of m.dependencies ?? []) {
        for (const s of [d.code?.specifier, d.type?.specifier]) {
          if (s?.startsWith("file://")) to.add(s);
        }
      }
    }
  }
  // a depth-first walk: a module met again while on the path closes a circle
  const circles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (m: string) => {
    state.set(m, "open");
    path.push(m);
    for (const next of edges.get(m) ?? []) {
      if (state.get(next) === "open") {
        circles.push([...path.slice(path.indexOf(next)), next].map(short).join(" -> "));
      } else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(m, "done");
  };
  for (const m of edges.keys()) if (!state.has(m)) visit(m);
  assert.deepEqual(circles, []);
});

function short(specifier: string): string {
  return specifier.replace(`file://${ROOT}/`, "");
}
