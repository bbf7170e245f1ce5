/**
 * lbsync's one regex dialect for hosts (`lbsync.host=~REGEX`, nginx-proxy's `VIRTUAL_HOST=~`):
 * a subset that JavaScript, PCRE2 (nginx, HAProxy) compile to the same language, and whose
 * matching is linear in the length of the host in all three, by construction. Pure.
 *
 * The dialect:
 * - starts with `^` (anchored); may end with `$`; no other `^` or `$`; no `|` outside a group;
 * - atoms: `a-z`, `0-9`, `-`, `\.` and `\-` (the only escapes), `.` (any character), classes
 *   `[...]` / `[^...]` of those characters, `.`, and ranges `a-z` / `0-9`, and groups `( )`;
 * - lower case only: both balancers and `route` lowercase the host first (an upper-case letter
 *   makes nginx match case-insensitively, HAProxy and JavaScript not);
 * - `*` and `+` repeat one character atom; a group takes only `?`;
 * - deterministic: at each point of a match, the next character decides which atom takes it
 *   (Glushkov positions; the alternatives of a group, and what may follow a repeat, start with
 *   disjoint characters), except that one repeat may overlap what follows it when nothing after
 *   it repeats (`^.*\.example\.com$`). A backtracking matcher then tries at most one path per
 *   position of that repeat, each as long as the pattern: `O(n * m)` for a host of `n`
 *   characters and a pattern of `m`.
 *
 * `route` matches with {@link matchHostRegex}, which simulates the positions in one pass. The
 * characters are a {@link RegexFlavor}: this file's is the hosts'; `path_regex.ts` gives the
 * same structure and rule path characters, case-sensitive.
 *
 * @module
 */

/** A set of characters: bit `c` for character code `c` < 128, bit 128 for every other one. */
export type CharSet = bigint;

/** Every character. */
export const ALL: CharSet = (1n << 129n) - 1n;
/** The set of one character (every character >= 128 is one member). */
export const bit = (code: number): CharSet => 1n << BigInt(code < 128 ? code : 128);
const rangeSet = (from: number, to: number): CharSet => {
  let set = 0n;
  for (let c = from; c <= to; c++) set |= bit(c);
  return set;
};
/** `.`: every character but a line break (hosts hold none). */
const ANY: CharSet = ALL & ~bit(10) & ~bit(13);

/**
 * What a dialect takes besides the shared structure: its literal characters, its escapes, what
 * `.` and a negated class match, and whether upper case is refused (hosts are lowercased
 * first). The host dialect is the default; `path_regex.ts` defines the path one.
 */
export interface RegexFlavor {
  /** What the pattern is of, in messages: `hosts`, `paths`. */
  readonly subject: string;
  /** One literal character outside a class. */
  readonly literal: RegExp;
  /** One literal character inside a class (ranges aside). */
  readonly classLiteral: RegExp;
  /** The characters that may follow `\`. */
  readonly escapes: string;
  /** Upper-case letters are refused (the subject is matched lowercased). */
  readonly lowerCaseOnly: boolean;
  /** The characters `.` takes. */
  readonly any: CharSet;
  /** The characters a negated class never takes. */
  readonly negatedExcludes: CharSet;
}

/** The host dialect's characters. */
export const HOST_FLAVOR: RegexFlavor = {
  subject: "hosts",
  literal: /[a-z0-9-]/,
  classLiteral: /[a-z0-9.-]/,
  escapes: ".-",
  lowerCaseOnly: true,
  any: ANY,
  negatedExcludes: bit(10) | bit(13),
};

/** Parsed pattern nodes. */
type Node =
  | { kind: "atom"; set: CharSet; repeat: "" | "*" | "+" | "?" }
  | { kind: "seq"; items: Node[] }
  | { kind: "alt"; options: Node[]; optional: boolean };

/** A compiled host regex: Glushkov positions and their transitions. */
export interface HostRegex {
  /** The source, without `~`. */
  readonly source: string;
  /** The characters each position takes. */
  readonly sets: readonly CharSet[];
  /** Positions a match may start with. */
  readonly first: readonly number[];
  /** Positions that may follow each position. */
  readonly follow: readonly (readonly number[])[];
  /** Positions a match may end with. */
  readonly last: ReadonlySet<number>;
  /** True when the empty host matches. */
  readonly nullable: boolean;
  /** True when the pattern ends with `$` (else a prefix match suffices). */
  readonly anchoredEnd: boolean;
}

/** Why a pattern is outside the dialect. */
export class HostRegexError extends Error {}

/**
 * Compiles `source` (without `~`) into a {@link HostRegex}.
 *
 * @example
 * ```ts
 * import { compileHostRegex, matchHostRegex } from "./host_regex.ts";
 * const re = compileHostRegex("^(www\\.)?example\\.com$");
 * console.log(matchHostRegex(re, "www.example.com"), matchHostRegex(re, "wwwexample.com")); // true false
 * ```
 *
 * @throws {HostRegexError} naming what is outside the dialect
 */
export function compileHostRegex(source: string, flavor: RegexFlavor = HOST_FLAVOR): HostRegex {
  if (!source.startsWith("^")) {
    throw new HostRegexError(
      `must start with ^ (a ${flavor.subject.slice(0, -1)} regex is anchored)`,
    );
  }
  const anchoredEnd = source.endsWith("$") && !source.endsWith("\\$");
  const body = source.slice(1, anchoredEnd ? -1 : undefined);
  const parser = new Parser(body, flavor);
  const root = parser.sequence(true);
  if (parser.at < body.length) throw parser.error(`unexpected ${JSON.stringify(body[parser.at])}`);
  return glushkov(source, root, anchoredEnd);
}

/**
 * True when `host` (already lowercased) matches `re`: one pass over the host, keeping the set
 * of positions reached, so time is linear in the host's length.
 */
export function matchHostRegex(re: HostRegex, host: string): boolean {
  if (re.nullable && (!re.anchoredEnd || host.length === 0)) return true;
  let states = new Set<number>();
  let candidates: readonly number[] = re.first;
  for (let i = 0; i < host.length; i++) {
    const c = bit(host.charCodeAt(i));
    const next = new Set<number>();
    for (const p of candidates) if ((re.sets[p] & c) !== 0n) next.add(p);
    if (next.size === 0) return false;
    states = next;
    if (!re.anchoredEnd && [...states].some((p) => re.last.has(p))) return true;
    const union = new Set<number>();
    for (const p of states) for (const q of re.follow[p]) union.add(q);
    candidates = [...union];
  }
  return [...states].some((p) => re.last.has(p));
}

class Parser {
  at = 0;
  constructor(readonly text: string, readonly flavor: RegexFlavor) {}

  error(why: string): HostRegexError {
    return new HostRegexError(`${why} at position ${this.at + 2}`); // 1-based, after ^
  }

  /** A sequence; at the top level a `|` is refused (it would escape the anchors). */
  sequence(top: boolean): Node {
    const items: Node[] = [];
    while (this.at < this.text.length) {
      const c = this.text[this.at];
      if (c === ")") break;
      if (c === "|") {
        if (top) throw this.error("| outside a group (write ^(a|b)$)");
        break;
      }
      items.push(this.item());
    }
    return { kind: "seq", items };
  }

  item(): Node {
    const c = this.text[this.at];
    if (c === "(") {
      this.at++;
      if (this.text[this.at] === "?") throw this.error("(? groups are outside the dialect");
      const options = [this.sequence(false)];
      while (this.text[this.at] === "|") {
        this.at++;
        options.push(this.sequence(false));
      }
      if (this.text[this.at] !== ")") throw this.error("unclosed group");
      this.at++;
      const q = this.text[this.at];
      if (q === "*" || q === "+") {
        throw this.error(`a group repeats with ${q} (only ? may follow a group)`);
      }
      if (q === "?") this.at++;
      return { kind: "alt", options, optional: q === "?" };
    }
    const set = this.atom();
    const q = this.text[this.at];
    if (q === "*" || q === "+" || q === "?") {
      this.at++;
      const next = this.text[this.at];
      if (next === "*" || next === "+" || next === "?") {
        throw this.error(
          "a repeat of a repeat (lazy and possessive forms are outside the dialect)",
        );
      }
      return { kind: "atom", set, repeat: q };
    }
    return { kind: "atom", set, repeat: "" };
  }

  atom(): CharSet {
    const c = this.text[this.at];
    if (c === ".") {
      this.at++;
      return this.flavor.any;
    }
    if (c === "[") return this.characterClass();
    if (c === "\\") return bit(this.escape().charCodeAt(0));
    if (c === "^" || c === "$") throw this.error(`${c} inside the pattern (only at its ends)`);
    if (c === "*" || c === "+" || c === "?") throw this.error(`${c} repeats nothing`);
    this.refuseUpperCase(c);
    if (!this.flavor.literal.test(c)) {
      throw this.error(`${JSON.stringify(c)} is outside the dialect`);
    }
    this.at++;
    return bit(c.charCodeAt(0));
  }

  /** `\.`, `\-` (and for paths `\*`, `\+`): read alike by JavaScript, PCRE2 and nginx's parser. */
  escape(): string {
    const e = this.text[this.at + 1];
    if (e === undefined || !this.flavor.escapes.includes(e)) {
      const list = [...this.flavor.escapes].map((x) => `\\${x}`).join(", ");
      throw this.error(
        `\\${e ?? ""} is outside the dialect (the escapes are ${list}; classes: [0-9])`,
      );
    }
    this.at += 2;
    return e;
  }

  refuseUpperCase(c: string): void {
    if (this.flavor.lowerCaseOnly && /[A-Z]/.test(c)) {
      throw this.error(`upper-case ${c} (hosts are matched lowercased: write ${c.toLowerCase()})`);
    }
  }

  characterClass(): CharSet {
    this.at++; // [
    const negated = this.text[this.at] === "^";
    if (negated) this.at++;
    let set = 0n;
    let members = 0;
    while (this.at < this.text.length && this.text[this.at] !== "]") {
      const from = this.classChar();
      if (
        this.text[this.at] === "-" && this.text[this.at + 1] !== "]" &&
        this.at + 1 < this.text.length
      ) {
        this.at++;
        const to = this.classChar();
        const sameKind = (/[a-z]/.test(from) && /[a-z]/.test(to)) ||
          (/[A-Z]/.test(from) && /[A-Z]/.test(to)) ||
          (/[0-9]/.test(from) && /[0-9]/.test(to));
        if (!sameKind || to < from) {
          throw this.error(
            `range ${from}-${to} (use a-z${
              this.flavor.lowerCaseOnly ? "" : ", A-Z"
            } or 0-9 ranges)`,
          );
        }
        set |= rangeSet(from.charCodeAt(0), to.charCodeAt(0));
      } else set |= bit(from.charCodeAt(0));
      members++;
    }
    if (this.text[this.at] !== "]") throw this.error("unclosed [");
    if (members === 0) throw this.error("an empty class");
    this.at++;
    return negated ? ALL & ~set & ~this.flavor.negatedExcludes : set;
  }

  classChar(): string {
    const c = this.text[this.at];
    if (c === "\\") return this.escape();
    this.refuseUpperCase(c);
    if (c === undefined || !this.flavor.classLiteral.test(c)) {
      throw this.error(`${JSON.stringify(c)} in a class`);
    }
    this.at++;
    return c;
  }
}

interface Fragment {
  first: number[];
  last: number[];
  nullable: boolean;
}

function glushkov(source: string, root: Node, anchoredEnd: boolean): HostRegex {
  const sets: CharSet[] = [];
  const follow: Set<number>[] = [];
  const loops: number[] = [];
  const link = (from: number[], to: number[]) => {
    for (const p of from) for (const q of to) follow[p].add(q);
  };
  const walk = (node: Node): Fragment => {
    if (node.kind === "atom") {
      const p = sets.length;
      sets.push(node.set);
      follow.push(new Set());
      if (node.repeat === "*" || node.repeat === "+") {
        follow[p].add(p);
        loops.push(p);
      }
      return { first: [p], last: [p], nullable: node.repeat === "*" || node.repeat === "?" };
    }
    if (node.kind === "alt") {
      const parts = node.options.map(walk);
      return {
        first: parts.flatMap((f) => f.first),
        last: parts.flatMap((f) => f.last),
        nullable: node.optional || parts.some((f) => f.nullable),
      };
    }
    let acc: Fragment = { first: [], last: [], nullable: true };
    for (const item of node.items) {
      const f = walk(item);
      link(acc.last, f.first);
      acc = {
        first: acc.nullable ? [...acc.first, ...f.first] : acc.first,
        last: f.nullable ? [...acc.last, ...f.last] : f.last,
        nullable: acc.nullable && f.nullable,
      };
    }
    return acc;
  };
  const top = walk(root);
  const re: HostRegex = {
    source,
    sets,
    first: top.first,
    follow: follow.map((s) => [...s]),
    last: new Set(top.last),
    nullable: top.nullable,
    anchoredEnd,
  };
  checkLinear(re, loops);
  return re;
}

/** The most paths a backtracking matcher may try through ambiguous choices (see below). */
export const MAX_AMBIGUITY = 16;

/**
 * The dialect's linearity rule over the positions. At each point of a match the candidates
 * that can take the next character must be one, except:
 * - one repeat (the first that overlaps what follows it) may do so when no repeat comes after
 *   it: a backtracking matcher gives it back one character at a time, each try as long as the
 *   rest of the pattern, which does not repeat;
 * - positions that do not repeat may overlap (`^(www|web)\.`): each such choice multiplies the
 *   paths a backtracking matcher tries, at most {@link MAX_AMBIGUITY} in all.
 */
function checkLinear(re: HostRegex, loops: number[]): void {
  const isLoop = (p: number) => loops.includes(p);
  let free: number | undefined;
  let paths = 1;
  const choices = new Map([re.first, ...re.follow].map((c) => [c.join(), c]));
  for (const candidates of choices.values()) {
    const overlapping = new Set<number>();
    for (let i = 0; i < candidates.length; i++) {
      for (let j = i + 1; j < candidates.length; j++) {
        const [p, q] = [candidates[i], candidates[j]].sort((a, b) => a - b);
        if ((re.sets[p] & re.sets[q]) === 0n) continue;
        if (!isLoop(p) && !isLoop(q)) {
          overlapping.add(p).add(q);
          continue;
        }
        if (isLoop(p) && (free === undefined || free === p)) {
          free = p;
          continue;
        }
        throw new HostRegexError(
          isLoop(p)
            ? "two repeats overlap what follows them: matching could backtrack without bound"
            : "a repeat overlaps what comes before it: matching could backtrack without bound",
        );
      }
    }
    if (overlapping.size > 0) paths *= overlapping.size;
  }
  if (paths > MAX_AMBIGUITY) {
    throw new HostRegexError(
      `ambiguous: alternatives that can take the same characters give ${paths} paths to try (at most ${MAX_AMBIGUITY}; start them differently)`,
    );
  }
  if (free !== undefined && loops.some((p) => p > free!)) {
    throw new HostRegexError(
      "a repeat follows a repeat that overlaps what comes after it: matching could backtrack without bound",
    );
  }
}
