/**
 * Writes lib/core/render/template_tokens.json: the built-in templates as Mustache parses them,
 * so a run renders them without parsing (parsing the nginx template costs about 12 ms and 8 MB
 * of a one-shot run). tests/template_tokens_test.ts fails when the file is not current.
 *
 * Run: `deno task templates`
 *
 * @module
 */
import { templateTokensText } from "../lib/core/render/template_tokens.ts";

const path = new URL("../lib/core/render/template_tokens.json", import.meta.url);
await Deno.writeTextFile(path, templateTokensText());
console.log(`wrote ${path.pathname}`);
