/**
 * The built-in templates, embedded at build time so the library needs no file access.
 *
 * @module
 */
import haproxy from "../../../templates/haproxy.cfg.mustache" with { type: "text" };
import nginx from "../../../templates/nginx.conf.mustache" with { type: "text" };
import nginxStream from "../../../templates/nginx-stream.conf.mustache" with { type: "text" };

/** Names of the built-in templates. */
export type TemplateName = "nginx" | "nginx-stream" | "haproxy";

/**
 * Built-in Mustache templates by name: `nginx` (http context include), `nginx-stream`
 * (stream context include) and `haproxy` (a complete haproxy.cfg).
 *
 * @example
 * ```ts
 * import { templates } from "./templates.ts";
 * console.log(Object.keys(templates)); // ["nginx", "nginx-stream", "haproxy"]
 * ```
 */
export const templates: Readonly<Record<TemplateName, string>> = Object.freeze({
  nginx,
  "nginx-stream": nginxStream,
  haproxy,
});

/** True when `name` is a built-in template name. */
export function isTemplateName(name: string): name is TemplateName {
  return Object.hasOwn(templates, name);
}
