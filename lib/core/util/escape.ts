/**
 * Text from untrusted sources made safe for a terminal or a log line. Pure.
 *
 * @module
 */

// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with control characters (C0, DEL, C1) and bidirectional controls (U+202E and its
 * kin) escaped as `\n`, `\r`, `\t` or `\uXXXX`: a label or container name with a newline
 * cannot forge a second log line or table row, nor reverse what follows it on screen.
 *
 * @example
 * ```ts
 * import { escapeControls } from "./escape.ts";
 * console.log(escapeControls("a\nb\u202ec")); // a\nb\u202ec
 * ```
 */
export function escapeControls(text: string): string {
  return text.replace(
    UNSAFE,
    (c) =>
      c === "\n"
        ? "\\n"
        : c === "\r"
        ? "\\r"
        : c === "\t"
        ? "\\t"
        : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
