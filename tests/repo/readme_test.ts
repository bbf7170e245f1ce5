/**
 * The ```console examples of the README and docs/ run: each `$ lbsync ARGS` line is run through the CLI (in
 * this process, from the project root), each `$ deno run ...` line as a real process with
 * exactly those permissions; each must print exactly the lines under it. The library example
 * shown is the file it names.
 */
import assert from "node:assert/strict";
import { lbsync } from "../support/cli.ts";

const ROOT = new URL("../../", import.meta.url);
/** The README and every document under docs/, by path. */
const DOCUMENTS = new Map<string, string>([
  ["README.md", await Deno.readTextFile(new URL("README.md", ROOT))],
  ...[...Deno.readDirSync(new URL("docs/", ROOT))].filter((e) => e.name.endsWith(".md"))
    .map((e): [string, string] => [
      `docs/${e.name}`,
      Deno.readTextFileSync(new URL(`docs/${e.name}`, ROOT)),
    ]),
]);

interface Example {
  file: string;
  line: number;
  /** `lbsync` (in process) or `deno` (a process). */
  program: "lbsync" | "deno";
  args: string[];
  stdout: string;
}

/** Splits a command line like a shell does for plain and single- or double-quoted words. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function examples(file: string, markdown: string): Example[] {
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
    const command = /^\$ (lbsync|deno) (.*)$/.exec(text);
    if (command) {
      const program = command[1] as Example["program"];
      current = { file, line: i + 1, program, args: words(command[2]), stdout: "" };
      found.push(current);
    } else if (current) {
      current.stdout += text + "\n";
    }
  });
  return found;
}

const all = [...DOCUMENTS].flatMap(([file, text]) => examples(file, text));

Deno.test("the README and docs/ have console examples to run", () => {
  assert.ok(all.length >= 3, `found ${all.length}`);
});

for (const example of all) {
  const name = `${example.file} line ${example.line}: ${example.program} ${example.args.join(" ")}`;
  Deno.test(name, async () => {
    const r = example.program === "deno" ? await denoRun(example.args) : await inProcess(example);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, example.stdout, `${example.file} line ${example.line}`);
  });
}

/** `lbsync ARGS` in this process; relative paths in the README are the project's own. */
function inProcess(example: Example) {
  const args = example.args.map((a) =>
    /^(examples|templates|tests)\//.test(a) ? new URL(a, ROOT).pathname : a
  );
  return lbsync(args);
}

/** `deno ARGS` as a process in the project root, with exactly the README's flags. */
async function denoRun(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: new URL(".", ROOT).pathname,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("docs/library.md's example is examples/library.ts, as it says", async () => {
  const file = await Deno.readTextFile(new URL("examples/library.ts", ROOT));
  const library = DOCUMENTS.get("docs/library.md") ?? "";
  const section = library.slice(library.indexOf("`examples/library.ts` is a complete script"));
  const block = /```ts\n([^]*?)```/.exec(section)?.[1];
  assert.equal(block, file);
});
