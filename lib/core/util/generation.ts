/**
 * The generation of a rendered configuration: a hash of its text that the built-in templates
 * serve to loopback clients under a reserved host name, so that lbsync can confirm after a
 * reload that the balancer runs the new file (a reload can exit 0 and change nothing, e.g.
 * when nginx cannot bind a new port). Pure.
 *
 * @module
 */
import { sha1 } from "./sha1.ts";

/** Host name the generation is served under: `.invalid` can never be a real host (RFC 2606). */
export const GENERATION_HOST = "lbsync-generation.invalid";

/** What `{{generation}}` renders to before {@link stampGeneration} replaces it. */
export const GENERATION_TOKEN = "@@lbsync-generation@@";

/**
 * Replaces every {@link GENERATION_TOKEN} in `text` with the hash of the text itself (taken
 * with the tokens in place, so the stamp never depends on itself). Text without a token is
 * returned as it is.
 *
 * @example
 * ```ts
 * import { GENERATION_TOKEN, stampGeneration } from "./generation.ts";
 * const text = stampGeneration(`return 200 "${GENERATION_TOKEN}";`);
 * console.log(/^return 200 "[0-9a-f]{16}";$/.test(text)); // true
 * ```
 */
export function stampGeneration(text: string): string {
  if (!text.includes(GENERATION_TOKEN)) return text;
  return text.replaceAll(GENERATION_TOKEN, generationOf(text));
}

/**
 * The generation a stamped text carries: the one on its `# lbsync generation: HASH` line,
 * `undefined` when it has none (a template that does not serve its generation).
 */
export function readGeneration(text: string): string | undefined {
  return /^# lbsync generation: ([0-9a-f]{16})$/m.exec(text)?.[1];
}

/** `text` with its generation put back to the token: two texts compare without it. */
export function withoutGeneration(text: string): string {
  const generation = readGeneration(text);
  return generation === undefined ? text : text.replaceAll(generation, GENERATION_TOKEN);
}

/** The first 64 bits of the SHA-1 of `text` (UTF-8), as 16 hex digits. */
function generationOf(text: string): string {
  // node:crypto hashes a 1 MB config in under 1 ms; a JavaScript loop took 3 ms
  return sha1(text).slice(0, 16);
}
