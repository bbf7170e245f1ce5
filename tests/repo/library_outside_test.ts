/**
 * The library from anywhere: a script in another directory, with no project config, imports
 * mod.ts by file URL and runs with narrow permissions.
 */
import assert from "node:assert/strict";

const MOD = new URL("../../mod.ts", import.meta.url).href;
const EXAMPLE = new URL("../../examples/containers.json", import.meta.url).pathname;

Deno.test("a script outside the project imports mod.ts by URL and renders, explains, routes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-outside-" });
  try {
    await Deno.writeTextFile(
      `${dir}/script.ts`,
      `import { buildModel, containersFromDockerApi, explainRows, render, routeRequest, templates } from "${MOD}";
const containers = containersFromDockerApi(JSON.parse(await Deno.readTextFile(Deno.args[0])));
const result = buildModel(containers);
const text = render(templates.haproxy, result.model);
const answer = routeRequest(result.model, { listen: 80, host: "shop.example.com", path: "/api/x" });
console.log(text.includes("backend lbsync_api"), explainRows(result).length,
  answer.kind === "routed" ? answer.service.name : answer.kind);
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", `--allow-read=${EXAMPLE}`, "script.ts", EXAMPLE],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(new TextDecoder().decode(out.stdout), "true 8 api\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
