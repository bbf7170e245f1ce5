/**
 * Every relative link of the README, CHANGELOG.md and docs/ reaches a file of the checkout and,
 * when it names an anchor, a heading of that file (GitHub's anchor rule: lower case, spaces to
 * hyphens, punctuation dropped).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const FILES = [
  "README.md",
  "CHANGELOG.md",
  ...[...Deno.readDirSync(new URL("docs/", ROOT))].filter((e) => e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`).sort(),
];

/** The anchors of a Markdown file's headings, outside code blocks. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (heading) {
      found.add(heading[1].toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replaceAll(" ", "-"));
    }
  }
  return found;
}

/** The relative links of a Markdown file, outside code blocks and code spans. */
function links(markdown: string): string[] {
  const prose = markdown.replace(/```[^]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1])
    .filter((href) => !/^[a-z]+:/.test(href));
}

for (const file of FILES) {
  Deno.test(`${file}: every relative link reaches a file and a heading`, async () => {
    const text = await Deno.readTextFile(new URL(file, ROOT));
    const broken: string[] = [];
    for (const href of links(text)) {
      const [path, anchor] = href.split("#");
      const target = path === "" ? new URL(file, ROOT) : new URL(path, new URL(file, ROOT));
      let body = "";
      try {
        body = Deno.statSync(target).isFile ? Deno.readTextFileSync(target) : "";
      } catch {
        broken.push(`${href}: no such file`);
        continue;
      }
      if (anchor && target.pathname.endsWith(".md") && !anchors(body).has(anchor)) {
        broken.push(`${href}: no heading #${anchor}`);
      }
    }
    assert.deepEqual(broken, []);
  });
}
