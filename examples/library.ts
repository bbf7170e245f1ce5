/**
 * lbsync as a library: read containers from Docker API JSON (here the bundled example), build
 * the model, print what a balancer would get, and render the built-in nginx template.
 * Run: deno run --allow-read examples/library.ts [containers.json]
 */
import { buildModel, containersFromDockerApi, render, templates } from "../mod.ts";

const path = Deno.args[0] ?? new URL("./containers.json", import.meta.url).pathname;
const containers = containersFromDockerApi(JSON.parse(await Deno.readTextFile(path)));
const { model, skipped, warnings } = buildModel(containers, { listen: 8080 });

for (const service of model.services) {
  const servers = service.servers.map((s) => `${s.endpoint}${s.backup ? " (backup)" : ""}`);
  console.log(
    `${service.name} [${service.mode}] ${service.hosts.join(",") || "*"}${service.path}: ${
      servers.join(", ")
    }`,
  );
}
for (const s of skipped) console.log(`skipped ${s.name}: ${s.reason}`);
for (const w of warnings) console.log(`warning: ${w}`);
console.log(`nginx config: ${render(templates.nginx, model).split("\n").length} lines`);
