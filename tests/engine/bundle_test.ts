/**
 * The single-file build: `deno task bundle` writes one file that runs the command from any
 * directory, with narrow permissions, against the real test engine, and that scripts import
 * as the library (the built-in templates inside it).
 */
import assert from "node:assert/strict";
import { ROOT } from "../support/fixtures.ts";
import { ENGINE_SOCK, engineMissing } from "../support/engine.ts";
import { run } from "../support/tools.ts";

const TASK = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks.bundle as string;

/** Runs the bundle task with its output in `dir` instead of `dist/`. */
async function bundleInto(dir: string): Promise<string> {
  const out = `${dir}/lbsync.js`;
  assert.match(TASK, / -o dist\/lbsync\.js /);
  const r = await run(["sh", "-c", TASK.replace("-o dist/lbsync.js", `-o ${out}`)], { cwd: ROOT });
  assert.equal(r.code, 0, r.stderr);
  return out;
}

Deno.test({
  name: "bundle: one file runs the command outside the checkout and is the library",
  ignore: await engineMissing(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-bundle-" });
    try {
      const file = await bundleInto(dir);
      const deno = (args: string[]) => run([Deno.execPath(), "run", ...args], { cwd: dir });
      const meta = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
      const version = await deno(["lbsync.js", "--version"]);
      assert.equal(version.stdout, `lbsync ${meta.version}\n`, version.stderr);

      // the same output as the checkout's command, from a copy of the example outside it
      await Deno.copyFile(`${ROOT}/examples/containers.json`, `${dir}/containers.json`);
      const args = ["render", "--from-file", "containers.json", "-t", "haproxy", "-o", "-"];
      const bundled = await deno([`--allow-read=${dir}`, "lbsync.js", ...args]);
      const checkout = await run([Deno.execPath(), "run", "-A", `${ROOT}/cli.ts`, ...args], {
        cwd: dir,
      });
      assert.equal(bundled.code, 0, bundled.stderr);
      assert.equal(
        bundled.stdout.replace(/generation: \w+/, ""),
        checkout.stdout.replace(/generation: \w+/, ""),
      );

      // the real engine, with the README's permissions for a local socket
      const S = ENGINE_SOCK;
      const explain = await deno([
        `--allow-read=${S}`,
        `--allow-write=${S}`,
        `--allow-net=unix:${S}`,
        "lbsync.js",
        "explain",
        "--docker",
        `unix://${S}`,
        "--format",
        "json",
      ]);
      assert.equal(explain.code, 0, explain.stderr);
      assert.ok(Array.isArray(JSON.parse(explain.stdout).containers));

      // a script imports the file as the library
      await Deno.writeTextFile(
        `${dir}/script.ts`,
        [
          'import { buildModel, containersFromDockerApi, render, templates } from "./lbsync.js";',
          'const json = JSON.parse(Deno.readTextFileSync("containers.json"));',
          "const { model } = buildModel(containersFromDockerApi(json));",
          "const text = render(templates.nginx, model);",
          "console.log(Object.keys(templates).sort().join(), model.services.length, text.includes('upstream lbsync_web'));",
        ].join("\n"),
      );
      const script = await deno([`--allow-read=${dir}`, "script.ts"]);
      assert.equal(script.stdout, "haproxy,nginx,nginx-stream 4 true\n", script.stderr);
      assert.ok((await Deno.stat(file)).size < 1024 * 1024, "the file stays under 1 MiB");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
