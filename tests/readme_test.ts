/**
 * The README's ```console examples run: each `$ lbsync ARGS` line is run through the CLI (in
 * this process, from the project root) and must print exactly the lines under it.
 */
import assert from "node:assert/strict";
import { lbsync } from "./support/cli.ts";

const ROOT = new URL("../", import.meta.url);
const README = await Deno.readTextFile(new URL("README.md", ROOT));

interface Example {
  line: number;
  args: string[];
  stdout: string;
}

/** Splits a command line like a shell does for plain and single- or double-quoted words. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function examples(markdown: string): Example[] {
  const found: Example[] = [];
  const lines = markdown.split("\n");
  let inConsole = false;
  let current: Example | undefined;
  lines.forEach((text, i) => {
    if (text.startsWith("```")) {
      inConsole = !inConsole && text.trim() === "```console";
      current = undefined;
      return;
    }
    if (!inConsole) return;
    if (text.startsWith("$ lbsync ")) {
      current = { line: i + 1, args: words(text.slice("$ lbsync ".length)), stdout: "" };
      found.push(current);
    } else if (current) {
      current.stdout += text + "\n";
    }
  });
  return found;
}

const all = examples(README);

Deno.test("the README has console examples to run", () => {
  assert.ok(all.length >= 3, `found ${all.length}`);
});

for (const example of all) {
  Deno.test(`README line ${example.line}: lbsync ${example.args.join(" ")}`, async () => {
    const cwd = Deno.cwd();
    // relative paths in the README are the project's own
    const args = example.args.map((a) =>
      /^(examples|templates|tests)\//.test(a) ? new URL(a, ROOT).pathname : a
    );
    const r = await lbsync(args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, example.stdout, `README line ${example.line} (cwd ${cwd})`);
  });
}
