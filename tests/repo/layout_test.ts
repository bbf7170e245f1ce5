/**
 * The layout is the architecture: lib/core is pure (no I/O, no clock, no timers) and imports
 * nothing outside itself; every other folder imports only from its own layer and those below
 * it (core < sources < apply < haproxy < acme < watch < settings < serve < cli), and says in a
 * README what lives there. A module's unit test sits beside it (`x_test.ts` next to `x.ts`), is
 * no module of its layer, and needs no engine, balancer or other program of the outside world.
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

/** Every .ts file under `dir`, modules and their tests alike. */
function libSources(dir = `${ROOT}/lib`): string[] {
  return [...Deno.readDirSync(dir)].flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) return libSources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const isTest = (path: string) => path.endsWith("_test.ts");

/** The modules under `dir`: its .ts files but the unit tests beside them. */
function libFiles(dir = `${ROOT}/lib`): string[] {
  return libSources(dir).filter((path) => !isTest(path));
}

/** The unit tests under lib/ (`x_test.ts` beside `x.ts`). */
function libTests(): string[] {
  return libSources().filter(isTest);
}

/** What only an integration test may use: the helpers that start engines, balancers, etcd. */
const INTEGRATION_SUPPORT =
  /\/tests\/support\/(engine|swarm_cluster|etcd_cluster|watch_process|counting_proxy)\.ts$/;
const INTEGRATION_CALL =
  /\b(missing|requireTool|startNginx|startHaproxy|startBalancer|startManagedNginx|startReloadable|nginxCheck|haproxyCheck)\(/;

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

Deno.test("layout: every unit test in lib/ sits beside its module, and no module imports a test", () => {
  const wrong: string[] = [];
  for (const test of libTests()) {
    const module = test.replace(/_test\.ts$/, ".ts");
    try {
      Deno.statSync(module);
    } catch {
      wrong.push(
        `${test.slice(ROOT.length + 1)} has no ${module.slice(ROOT.length + 1)} beside it`,
      );
    }
  }
  for (const file of libFiles()) {
    for (const specifier of imports(Deno.readTextFileSync(file))) {
      if (specifier.startsWith(".") && /(_test\.ts|\/tests\/.*)$/.test(specifier)) {
        wrong.push(`${file.slice(ROOT.length + 1)} imports a test file: ${specifier}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("layout: a unit test in lib/ starts no engine, balancer or other program (those are in tests/)", () => {
  const wrong: string[] = [];
  for (const test of libTests()) {
    const text = Deno.readTextFileSync(test);
    const name = test.slice(ROOT.length + 1);
    for (const specifier of imports(text)) {
      const target = new URL(specifier, `file://${test}`).pathname;
      if (INTEGRATION_SUPPORT.test(target)) wrong.push(`${name} imports ${specifier}`);
    }
    const call = INTEGRATION_CALL.exec(code(text));
    if (call) wrong.push(`${name} calls ${call[1]}()`);
  }
  assert.deepEqual(wrong, []);
});

Deno.test("layout: the test tasks run lib/ and tests/'s groups, then the skip and leftover checks last", async () => {
  const { default: config } = await import("../../deno.json", { with: { type: "json" } });
  const tasks: Record<string, string> = config.tasks;
  // Deno runs test files in path order, but files named on its command line before all others
  const args = (task: string) => tasks[task].replace(/^deno test --allow-all /, "").split(" ");
  assert.deepEqual(args("test"), ["lib/", "tests/"]);
  assert.deepEqual(args("test:unit"), ["lib/", "tests/repo/"]);
  assert.deepEqual(args("test:e2e"), ["--ignore=tests/repo/", "tests/"]);
  const top = [...Deno.readDirSync(`${ROOT}/tests`)].map((e) => e.name).sort();
  assert.deepEqual(top.filter((n) => n.endsWith("_test.ts")), [
    "zy_skipped_test.ts",
    "zz_leaves_nothing_test.ts",
  ]);
  const after = top.filter((n) => n > "zy_skipped_test.ts" && n !== "zz_leaves_nothing_test.ts");
  assert.deepEqual(after, [], "a folder of tests/ named after zy_ would run after the last checks");
});

Deno.test("layout: the checks above catch what they look for", () => {
  assert.deepEqual(imports('import { a } from "./a.ts";\n * import { b } from "./b.ts";'), [
    "./a.ts",
  ]);
  assert.deepEqual(imports('import {\n  type A,\n  b,\n} from "../x/y.ts";'), ["../x/y.ts"]);
  assert.ok(IMPURE.test(code("const t = Date.now();")));
  assert.ok(!IMPURE.test(code("/** Date.now() */\nconst t = new Date(0);")));
  assert.ok(
    !IMPURE.test(code("interface Clock {\n  setTimeout(fn: () => void, ms: number): TimerId;\n}")),
  );
  assert.ok(IMPURE.test(code("  setTimeout(() => run(), 5);")));
  assert.ok(
    isTest(`${ROOT}/lib/core/heartbeat_test.ts`) && !isTest(`${ROOT}/lib/core/heartbeat.ts`),
  );
  assert.ok(libTests().length > 0 && libTests().every((t) => !libFiles().includes(t)));
  assert.ok(INTEGRATION_SUPPORT.test(`${ROOT}/tests/support/engine.ts`));
  assert.ok(!INTEGRATION_SUPPORT.test(`${ROOT}/tests/support/fixtures.ts`));
  assert.ok(INTEGRATION_CALL.test('const ignore = missing("nginx");'));
  assert.ok(!INTEGRATION_CALL.test("const port = freePort();"));
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
