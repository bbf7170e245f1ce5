/**
 * The reference tables of docs/ are the code's: each generated table sits between its markers
 * exactly as `deno task docs` writes it, and names every option and every label.
 */
import assert from "node:assert/strict";
import { referenceTables, withTable } from "./reference_tables.ts";
import { OPTION_SPECS } from "./options.ts";
import { LABEL_NAMES } from "../core/model/labels.ts";

const ROOT = new URL("../../", import.meta.url);

for (const table of referenceTables()) {
  Deno.test(`${table.file}: the ${table.marker} table is current (deno task docs)`, async () => {
    const text = await Deno.readTextFile(new URL(table.file, ROOT));
    assert.equal(text, withTable(text, table), `run deno task docs to regenerate ${table.file}`);
  });
}

Deno.test("the generated tables name every option and every label, each once", () => {
  const [options, labels] = referenceTables().map((t) => t.markdown);
  const flagCells = options.split("\n").map((row) => row.split(" | ")[0]);
  for (const o of OPTION_SPECS) {
    const named = flagCells.filter((cell) => new RegExp(`--${o.name}[ \`]`).test(cell));
    assert.equal(named.length, 1, `--${o.name}`);
  }
  for (const name of LABEL_NAMES) {
    assert.equal(labels.split(`\`lbsync.${name}\``).length - 1, 1, name);
  }
});
