/**
 * Two measures of the code's shape, for the layout's record: the depth of the import graph
 * under lib/ (the longest chain of imports) and the longest functions.
 *
 *   deno run --allow-read scripts/code_metrics.ts [ROOT] [TOP]
 *
 * @module
 */
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(Deno.args[0] ?? ".");
const top = Number(Deno.args[1] ?? 5);

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sources(path);
    // a module's test beside it (x_test.ts) is not a module of lib/
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) yield path;
  }
}

const files = new Map<string, string>();
for await (const path of sources(join(root, "lib"))) files.set(path, await Deno.readTextFile(path));

/** Imports of one file that stay under lib/ (value and type imports alike). */
function importsOf(path: string, text: string): string[] {
  const found = [...text.matchAll(/^(?:import|export)[^;]*?from\s+"(\.[^"]+)"/gms)];
  return found.map((m) => resolve(dirname(path), m[1])).filter((p) => files.has(p));
}

const depthMemo = new Map<string, number>();
function depth(path: string, seen: Set<string> = new Set()): number {
  if (depthMemo.has(path)) return depthMemo.get(path)!;
  if (seen.has(path)) return 0; // a cycle of type imports
  seen.add(path);
  const below = importsOf(path, files.get(path)!).map((p) => depth(p, seen));
  seen.delete(path);
  const d = 1 + Math.max(0, ...below);
  depthMemo.set(path, d);
  return d;
}

/** Functions and methods with their length in lines, from their header to the closing brace. */
function functionsOf(path: string, text: string): { name: string; lines: number }[] {
  const lines = text.split("\n");
  const out: { name: string; lines: number }[] = [];
  const header =
    /^(\s*)(?:export\s+)?(?:async\s+)?(?:function\*?\s+(\w+)|(?:(?:static|private|public|readonly)\s+)*(?:async\s+)?(#?\w+)\s*\([^)]*\)?[^=;]*\{\s*$)/;
  for (let i = 0; i < lines.length; i++) {
    const m = header.exec(lines[i]);
    const name = m?.[2] ?? m?.[3];
    if (!m || !name || ["if", "for", "while", "switch", "catch", "constructor"].includes(name)) {
      continue;
    }
    const end = lines.findIndex((l, j) => j > i && l === `${m[1]}}`);
    if (end > i) out.push({ name: `${relative(root, path)} ${name}`, lines: end - i + 1 });
  }
  return out;
}

const deepest = Math.max(...[...files.keys()].map((p) => depth(p)));
const longest = [...files].flatMap(([p, t]) => functionsOf(p, t))
  .sort((a, b) => b.lines - a.lines).slice(0, top);
console.log(`lib/: ${files.size} files, import depth ${deepest}`);
for (const f of longest) console.log(`${String(f.lines).padStart(4)}  ${f.name}`);
