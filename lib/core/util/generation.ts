/**
 * The generation of a rendered configuration: a hash of its text that the built-in templates
 * serve to loopback clients under a reserved host name, so that lbsync can confirm after a
 * reload that the balancer runs the new file (a reload can exit 0 and change nothing, e.g.
 * when nginx cannot bind a new port). Pure.
 *
 * @module
 */

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

const encoder = new TextEncoder();

/**
 * A 64-bit hash of `text`, as 16 hex digits: two multiplicative lanes over its UTF-8 bytes, four
 * at a time (little-endian words, the same on every machine), mixed at the end. Not
 * cryptographic (a generation only tells configs apart, and a label author gains nothing by a
 * collision); linear, and on a 2 MB config about 3 ms where a lane over its UTF-16 code units
 * took 9 and SHA-1 in JavaScript 28 (BENCHMARKS.md), without loading node:crypto.
 */
function generationOf(text: string): string {
  const bytes = encoder.encode(text);
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  const words = bytes.length & ~3;
  for (let i = 0; i < words; i += 4) {
    const c = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  for (let i = words; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i], 2654435761);
    h2 = Math.imul(h2 ^ bytes[i], 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  return hex(h2) + hex(h1);
}
