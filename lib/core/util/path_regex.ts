/**
 * lbsync's regex dialect for paths (`lbsync.path=~^/(web3|alt)/`, nginx-proxy's
 * `VIRTUAL_PATH=~ ^/(web3|alt)/`): the structure and the linearity rule of the host dialect
 * (`host_regex.ts`) over path characters, case-sensitive as nginx's `~`, so JavaScript, nginx's
 * regex locations and HAProxy's `-m reg` (PCRE2) read one language and match it in linear time.
 * Pure.
 *
 * The characters: literals `A-Z a-z 0-9 _ ~ ! , = : @ / -`, the escapes `\.`, `\-`, `\*` and `\+`,
 * classes of those (and `.`, `*`, `+`) with ranges `a-z`, `A-Z`, `0-9`; `.` takes any byte but a
 * line feed, a negated class any byte it does not list (as PCRE2 without flags). The pattern is
 * matched against the normalized path's bytes (nginx and HAProxy match bytes, not characters),
 * and a final `$` also matches before a final line feed, as PCRE2's does.
 *
 * @module
 */
import {
  ALL,
  bit,
  compileHostRegex,
  type HostRegex,
  matchHostRegex,
  type RegexFlavor,
} from "./host_regex.ts";

/** The path dialect's characters (see the module's documentation). */
const PATH_FLAVOR: RegexFlavor = {
  subject: "paths",
  literal: /[A-Za-z0-9_~!,=:@\/-]/,
  classLiteral: /[A-Za-z0-9_~!,=:@\/.*+-]/,
  escapes: ".-*+",
  lowerCaseOnly: false,
  any: ALL & ~bit(10),
  negatedExcludes: 0n,
};

/**
 * Compiles a path regex (`source` without `~`).
 *
 * @example
 * ```ts
 * import { compilePathRegex, matchPathRegex } from "./path_regex.ts";
 * const re = compilePathRegex("^/(web3|alt)/");
 * console.log(matchPathRegex(re, "/alt/x"), matchPathRegex(re, "/Alt/x")); // true false
 * ```
 *
 * @throws {HostRegexError} naming what is outside the dialect
 */
export function compilePathRegex(source: string): HostRegex {
  return compileHostRegex(source, PATH_FLAVOR);
}

/**
 * The regex of a route path `~REGEX` (spaces after `~` are nginx-proxy's spelling:
 * `~ ^/(web3|alt)/`), `""` for a prefix path.
 *
 * @example
 * ```ts
 * import { pathRegexSource } from "./path_regex.ts";
 * console.log(pathRegexSource("~ ^/(web3|alt)/"), pathRegexSource("/api") === ""); // ^/(web3|alt)/ true
 * ```
 */
export function pathRegexSource(path: string): string {
  return path.startsWith("~") ? path.slice(1).replace(/^ +/, "") : "";
}

/**
 * True when the normalized path `bytes` (one character per byte, as
 * {@link compilePathRegex}'s module says) matches `re` as nginx and HAProxy match it.
 */
export function matchPathRegex(re: HostRegex, bytes: string): boolean {
  if (matchHostRegex(re, bytes)) return true;
  // PCRE2's $ matches before a final line feed too (a path ending in %0A)
  return re.anchoredEnd && bytes.endsWith("\n") && matchHostRegex(re, bytes.slice(0, -1));
}
