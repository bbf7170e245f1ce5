/**
 * lib/core/render/parsed_templates.ts is mustache.js's parse of the built-in templates as they
 * are, and a render from it is the render from the template's text.
 */
import assert from "node:assert/strict";
// @deno-types="npm:@types/mustache@^4.2.5"
import Mustache from "../vendor/mustache.mjs";
import { parsedTemplatesModule } from "../../../scripts/parsed_templates.ts";
import { PARSED_TEMPLATES } from "./parsed_templates.ts";
import { templates } from "./templates.ts";
import { fits, render, type Token } from "./render.ts";
import { buildModel } from "../model/model.ts";
import { ROOT } from "../../../tests/support/fixtures.ts";
import { containersFromDockerApi } from "../input/docker_json.ts";

Deno.test("parsed templates: the stored parse is current (else: deno task templates)", async () => {
  const stored = await Deno.readTextFile(`${ROOT}/lib/core/render/parsed_templates.ts`);
  assert.equal(stored, parsedTemplatesModule(), "stale: run `deno task templates`");
  for (const [name, text] of Object.entries(templates)) {
    assert.deepEqual(
      JSON.parse(PARSED_TEMPLATES[name as keyof typeof templates]),
      Mustache.parse(text),
      name,
    );
  }
});

Deno.test("parsed templates: a render from the stored parse is mustache.js's render of the text", async () => {
  const json = JSON.parse(await Deno.readTextFile(`${ROOT}/examples/containers.json`));
  const { model } = buildModel(containersFromDockerApi(json));
  for (const [name, text] of Object.entries(templates)) {
    const ours = render(text, model);
    // the same text, as a new string, parsed by mustache.js itself
    const fresh = render(` ${text}`.slice(1), model);
    assert.equal(ours, fresh, name);
  }
});

Deno.test("parsed templates: a stored parse fits only its own template's text", () => {
  const nginx = JSON.parse(PARSED_TEMPLATES.nginx) as Token[];
  assert.equal(fits(nginx, templates.nginx), true);
  assert.equal(fits(JSON.parse(PARSED_TEMPLATES.haproxy), templates.nginx), false);
  // one character of text changed, one tag renamed, one line added at the top
  assert.equal(fits(nginx, templates.nginx.replace("upstream ", "upstreaM ")), false);
  assert.equal(fits(nginx, templates.nginx.replace("{{generation}}", "{{generatiom}}")), false);
  assert.equal(fits(nginx, `# x\n${templates.nginx}`), false);
});
