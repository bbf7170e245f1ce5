/**
 * The layout is the architecture: lib/core is pure (no I/O, no clock, no timers) and imports
 * nothing outside itself; every other folder imports only from its own layer and those below
 * it (core < sources < apply < haproxy < acme < watch < settings < serve < cli), and says in a
 * README what lives there.
 */
import assert from "node:assert/strict";
import { ROOT } from "../support/fixtures.ts";

const LAYERS = [
  "core",
  "sources",
  "apply",
  "haproxy",
  "acme",
  "watch",
  "settings",
  "serve",
  "cli",
];
/** Packages the pure core may use: none of them does I/O. */
const CORE_PACKAGES = ["npm:diff@", "node:crypto"];
/** What pure code never touches. */
const IMPURE =
  /\bDeno\.|\bfetch\(|\bsetTimeout\b|\bsetInterval\b|\bDate\.now\b|new Date\(\)|\bperformance\.now\b|\bMath\.random\b/;

function libFiles(dir = `${ROOT}/lib`): string[] {
  return [...Deno.readDirSync(dir)].flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) return libFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The specifiers of a module's import and export statements (not those in comments). */
function imports(text: string): string[] {
  return [...text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"/gms)].map((m) => m[1]);
}

/** The code of a module without its comments and method signatures (`now(): number;`). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "")
    .replace(/^\s+\w+\(.*\):\s*[\w<>[\]| ]+;\s*$/gm, "");
}

const layerOf = (path: string) => path.slice(`${ROOT}/lib/`.length).split("/")[0];

Deno.test("layout: every module lives in a layer and imports only its own layer or those below", () => {
  const wrong: string[] = [];
  for (const file of libFiles()) {
    const layer = layerOf(file);
    assert.ok(LAYERS.includes(layer), `${file} is outside the layers ${LAYERS.join(", ")}`);
    for (const specifier of imports(Deno.readTextFileSync(file))) {
      if (!specifier.startsWith(".")) continue;
      const target = new URL(specifier, `file://${file}`).pathname;
      if (target.startsWith(`${ROOT}/templates/`)) continue; // the built-in templates, as text
      const to = layerOf(target);
      if (LAYERS.indexOf(to) > LAYERS.indexOf(layer)) {
        wrong.push(`${file.slice(ROOT.length + 1)} imports ${to}: ${specifier}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("layout: lib/core is pure: no I/O, clock or timers, no package that does I/O", () => {
  const wrong: string[] = [];
  for (const file of libFiles(`${ROOT}/lib/core`)) {
    const text = Deno.readTextFileSync(file);
    const name = file.slice(ROOT.length + 1);
    const impure = IMPURE.exec(code(text));
    if (impure) wrong.push(`${name} uses ${impure[0]}`);
    for (const specifier of imports(text)) {
      if (specifier.startsWith(".")) continue;
      if (!CORE_PACKAGES.some((p) => specifier.startsWith(p))) {
        wrong.push(`${name} imports ${specifier}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("layout: the checks above catch what they look for", () => {
  assert.deepEqual(imports('import { a } from "../a.ts";\n * import { b } from "../b.ts";'), [
    "./a.ts",
  ]);
  assert.deepEqual(imports('import {\n  type A,\n  b,\n} from "../../x/y.ts";'), ["../x/y.ts"]);
  assert.ok(IMPURE.test(code("const t = Date.now();")));
  assert.ok(!IMPURE.test(code("/** Date.now() */\nconst t = new Date(0);")));
  assert.ok(
    !IMPURE.test(code("interface Clock {\n  setTimeout(fn: () => void, ms: number): TimerId;\n}")),
  );
  assert.ok(IMPURE.test(code("  setTimeout(() => run(), 5);")));
});

Deno.test("layout: each folder of lib says what lives there and what it may import", () => {
  const dirs = [`${ROOT}/lib`, ...new Set(libFiles().map((f) => f.slice(0, f.lastIndexOf("/"))))];
  const missing = dirs.filter((dir) => {
    try {
      return !/may import/i.test(Deno.readTextFileSync(`${dir}/README.md`));
    } catch {
      return true;
    }
  });
  assert.deepEqual(missing.map((d) => d.slice(ROOT.length + 1)), []);
});
