/**
 * Byte helpers. Pure.
 *
 * @module
 */

/**
 * `chunks` joined into one array (of `size` bytes, their total by default).
 *
 * @example
 * ```ts
 * import { joinBytes } from "./bytes.ts";
 * console.log(joinBytes([new Uint8Array([1]), new Uint8Array([2, 3])])); // Uint8Array(3) [ 1, 2, 3 ]
 * ```
 */
export function joinBytes(
  chunks: readonly Uint8Array[],
  size: number = chunks.reduce((n, c) => n + c.length, 0),
): Uint8Array {
  if (chunks.length === 1 && chunks[0].length === size) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
