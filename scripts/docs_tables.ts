/**
 * Writes the generated reference tables into docs/ (`deno task docs`): each table between its
 * markers, from the option and label tables in the code.
 */
import { referenceTables, withTable } from "../lib/settings/reference_tables.ts";

const root = new URL("../", import.meta.url);
for (const t of referenceTables()) {
  const path = new URL(t.file, root);
  const before = await Deno.readTextFile(path);
  const after = withTable(before, t);
  if (after !== before) {
    await Deno.writeTextFile(path, after);
    console.log(`wrote ${t.file} (${t.marker})`);
  }
}
