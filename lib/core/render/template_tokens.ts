/**
 * The built-in templates' token trees, as `Mustache.parse` gives them, kept in
 * `template_tokens.json` (written by `deno task templates`): {@link primeBuiltInTemplates} puts
 * them in Mustache's cache, so a run renders a built-in template without parsing it. A test
 * holds the file to the templates.
 *
 * @module
 */
// @deno-types="npm:@types/mustache@^4.2.5"
import Mustache from "npm:mustache@^4.2.0";
import tokens from "./template_tokens.json" with { type: "json" };
import { type TemplateName, templates } from "./templates.ts";

const NAMES = Object.keys(templates) as TemplateName[];
let primed = false;

/**
 * Puts the parsed built-in templates in Mustache's cache, once (Mustache looks a template up
 * by its text and tags, so a template that differs is parsed as usual).
 */
export function primeBuiltInTemplates(): void {
  if (primed) return;
  primed = true;
  const stored = tokens as Record<string, { source: string; tokens: unknown }>;
  for (const name of NAMES) {
    // a stale file (a template edited without `deno task templates`) is not used
    if (stored[name]?.source !== templates[name]) continue;
    Mustache.templateCache?.set(
      `${templates[name]}:${Mustache.tags.join(":")}`,
      stored[name].tokens as unknown as string,
    );
  }
}

/** The text `template_tokens.json` should hold: each built-in template and its tokens. */
export function templateTokensText(): string {
  const out: Record<string, { source: string; tokens: unknown }> = {};
  for (const name of NAMES) {
    out[name] = { source: templates[name], tokens: Mustache.parse(templates[name]) };
  }
  return JSON.stringify(out) + "\n";
}
