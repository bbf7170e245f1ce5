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
import { type TemplateName, templates } from "./templates.ts";
import { PARSED_TEMPLATES } from "./parsed_templates.ts";

/** Options of {@link render}. */
export interface RenderOptions {
  /** Name of the template, used in error messages (e.g. its path). */
  name?: string;
  /** Partials the template may include with `{{> name}}`. */
  partials?: Record<string, string>;
  /** Fields the template sees beside the model's (what the output's place decides). */
  extra?: Record<string, unknown>;
}

/**
 * Puts the stored parse of a built-in template in mustache.js's cache on its first use, so that
 * `Mustache.parse` never runs for one (its key is mustache.js's: the template and its tags).
 * A stored parse that does not fit the template's text is not used.
 */
function primeParse(template: string): void {
  for (const name of Object.keys(templates) as TemplateName[]) {
    if (primed.has(name) || template !== templates[name]) continue;
    primed.add(name);
    const tokens = JSON.parse(PARSED_TEMPLATES[name]) as Token[];
    // the cache holds token arrays (its type in @types/mustache says string)
    if (fits(tokens, template)) Mustache.templateCache!.set(`${template}:{{:}}`, tokens as never);
  }
}
const primed = new Set<TemplateName>();

/** A mustache.js token: type, value, start, end, then a section's tokens and its end. */
export type Token = [string, string, number, number, Token[]?, number?];

/**
 * True when every token's text is where it says in `template` (a text as it is, a tag holding
 * its name): a stored parse of that very text.
 */
export function fits(tokens: Token[], template: string): boolean {
  return tokens.every(([type, value, start, end, children]) => {
    const text = template.slice(start, end);
    const here = type === "text" ? text === value : text.includes(value);
    return here && (children === undefined || fits(children, template));
  });
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
    primeParse(template);
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
    primeParse(template);
    Mustache.parse(template);
  } catch (error) {
    throw new ConfigError(`Cannot parse template ${name}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}
