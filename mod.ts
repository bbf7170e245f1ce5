/**
 * lbsync: keeps a load balancer's backend list in step with Docker containers.
 *
 * The pure core is one chain: Docker API JSON -> {@link containersFromDockerApi} ->
 * {@link buildModel} -> {@link render}.
 *
 * @example
 * ```ts
 * import { buildModel, containersFromDockerApi, render, templates } from "./mod.ts";
 * const json = JSON.parse(await Deno.readTextFile("examples/containers.json"));
 * const { model, skipped } = buildModel(containersFromDockerApi(json));
 * console.log(render(templates.nginx, model));
 * for (const s of skipped) console.error(`${s.name}: ${s.reason}`);
 * ```
 *
 * @module
 */
export { containersFromDockerApi } from "./lib/docker_json.ts";
export { buildModel } from "./lib/model.ts";
export { parseTemplate, render, type RenderOptions } from "./lib/render.ts";
export { isTemplateName, type TemplateName, templates } from "./lib/templates.ts";
export { parseDuration } from "./lib/duration.ts";
export {
  ApplyError,
  ConfigError,
  DockerError,
  LabelError,
  LbsyncError,
  UsageError,
} from "./lib/errors.ts";
export type * from "./lib/types.ts";
