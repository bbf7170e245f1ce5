/**
 * The generation stamp (lib/core/util/generation.ts): a 64-bit hash of the text over its UTF-8
 * bytes, the same on every machine, that tells apart texts differing in any one byte.
 */
import assert from "node:assert/strict";
import {
  GENERATION_TOKEN,
  readGeneration,
  stampGeneration,
  withoutGeneration,
} from "./generation.ts";

const stamped = (body: string) =>
  stampGeneration(`# lbsync generation: ${GENERATION_TOKEN}\n${body}`);

Deno.test("generation: a fixed text has a fixed generation, on every machine", () => {
  // pinned: the hash reads bytes in little-endian words, not the machine's byte order
  assert.equal(
    readGeneration(stamped("upstream a {\n    server 10.0.0.1:80;\n}\n")),
    "b3b225cd7a6bc34c",
  );
});

Deno.test("generation: one byte changed anywhere, also in the last partial word, changes it", () => {
  const body = "server 10.0.0.1:8080; # é ✓\n"; // multi-byte characters, a length not a multiple of 4
  const base = readGeneration(stamped(body));
  const seen = new Set([base]);
  for (let i = 0; i < body.length; i++) {
    const changed = body.slice(0, i) + String.fromCharCode(body.charCodeAt(i) ^ 1) +
      body.slice(i + 1);
    seen.add(readGeneration(stamped(changed)));
  }
  assert.equal(seen.size, body.length + 1);
  assert.equal(readGeneration(stamped(`${body}x`)) === base, false);
});

Deno.test("generation: every token is replaced, and withoutGeneration puts them back", () => {
  const text = `# lbsync generation: ${GENERATION_TOKEN}\nreturn 200 "${GENERATION_TOKEN}";\n`;
  const out = stampGeneration(text);
  const generation = readGeneration(out)!;
  assert.match(generation, /^[0-9a-f]{16}$/);
  assert.equal(out, text.replaceAll(GENERATION_TOKEN, generation));
  assert.equal(withoutGeneration(out), text);
  assert.equal(stampGeneration("no token here"), "no token here");
});
