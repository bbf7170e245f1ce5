/**
 * lib/core/render/template_tokens.json holds the built-in templates as Mustache parses them
 * (renders skip the parse): it must be current, and a render from it must equal a render that
 * parses.
 */
import assert from "node:assert/strict";
// @deno-types="npm:@types/mustache@^4.2.5"
import Mustache from "npm:mustache@^4.2.0";
import { buildModel, render, templates } from "../mod.ts";
import { templateTokensText } from "../lib/core/render/template_tokens.ts";
import { container, resetContainers } from "./support/fixtures.ts";

Deno.test("template_tokens.json is current (deno task templates)", async () => {
  const stored = await Deno.readTextFile(
    new URL("../lib/core/render/template_tokens.json", import.meta.url),
  );
  assert.ok(stored === templateTokensText(), "stale: run `deno task templates`");
});

Deno.test("a built-in template renders the same from its stored tokens as parsed", () => {
  resetContainers();
  const { model } = buildModel([
    container("web", { "lbsync.enable": "true", "lbsync.host": "a.test", "lbsync.path": "/x/" }),
  ]);
  for (const name of ["nginx", "haproxy", "nginx-stream"] as const) {
    const stored = render(templates[name], model);
    Mustache.templateCache?.clear();
    const parsed = render(`${templates[name]}`, model);
    assert.equal(stored, parsed, name);
  }
});
