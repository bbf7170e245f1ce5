/**
 * Renders a model with a Mustache template. Pure.
 *
 * @module
 */
// @deno-types="npm:@types/mustache@^4.2.5"
import Mustache from "../vendor/mustache.mjs";
import { ConfigError, errorMessage } from "../errors.ts";
import { stampGeneration } from "../util/generation.ts";
import type { Model } from "../types.ts";

/** Options of {@link render}. */
export interface RenderOptions {
  /** Name of the template, used in error messages (e.g. its path). */
  name?: string;
  /** Partials the template may include with `{{> name}}`. */
  partials?: Record<string, string>;
  /** Fields the template sees beside the model's (what the output's place decides). */
  extra?: Record<string, unknown>;
}

// A configuration file is not HTML: no escaping. Every value in the model has passed a
// strict grammar, so nothing unchecked reaches the output.
const config = { escape: (text: unknown) => String(text) };

/**
 * Renders `template` with `model`. HTML escaping is off. `{{generation}}` becomes the hash of
 * the rendered text (see `stampGeneration`).
 *
 * @example
 * ```ts
 * import { buildModel, render, templates } from "../../../mod.ts";
 * const text = render(templates.haproxy, buildModel([]).model);
 * console.log(text.includes("global")); // true
 * ```
 *
 * @throws {ConfigError} when the template does not parse, e.g. an unclosed section
 */
export function render(template: string, model: Model, options: RenderOptions = {}): string {
  try {
    const view = options.extra ? { ...model, ...options.extra } : model;
    return stampGeneration(Mustache.render(template, view, options.partials ?? {}, config));
  } catch (error) {
    throw new ConfigError(
      `Cannot render template ${options.name ?? "(inline)"}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
}

/**
 * Checks that `template` parses, without rendering it.
 *
 * @throws {ConfigError} naming the template and the parse error
 */
export function parseTemplate(template: string, name = "(inline)"): void {
  try {
    Mustache.parse(template);
  } catch (error) {
    throw new ConfigError(`Cannot parse template ${name}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}
