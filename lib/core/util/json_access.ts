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
