/** Tolerant readers for untrusted JSON: a field of the wrong type reads as empty. */

/** A JSON object. */
export type Json = Record<string, unknown>;

/** True for a plain object (not an array, not null). */
export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` if it is an object, else `{}`. */
export function obj(value: unknown): Json {
  return isObject(value) ? value : {};
}

/** `value` if it is a string, else `""`. */
export function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** `value` if it is a finite number, else 0. */
export function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** `value` if it is an array, else `[]`. */
export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The string-valued entries of a labels object. */
export function labelsOf(labels: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(obj(labels))) {
    if (typeof value === "string") out[key] = value;
  }
  return out;
}

/** The deepest nesting of arrays and objects {@link parseJson} accepts. */
export const MAX_JSON_DEPTH = 64;

/**
 * `JSON.parse` for untrusted text, refusing nesting deeper than {@link MAX_JSON_DEPTH}: every
 * reader of the value may then recurse without bound checks (a value 20,000 arrays deep once
 * ended in "Maximum call stack size exceeded" naming nothing). Linear in the text's length.
 *
 * @example
 * ```ts
 * import { parseJson } from "./json_access.ts";
 * console.log(parseJson('{"a":[1]}')); // { a: [ 1 ] }
 * ```
 *
 * @throws {SyntaxError} for text that is not JSON, or nested too deep
 */
export function parseJson(text: string): unknown {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash: skip what it escapes
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new SyntaxError(`nested deeper than ${MAX_JSON_DEPTH} levels at position ${i}`);
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return JSON.parse(text);
}
