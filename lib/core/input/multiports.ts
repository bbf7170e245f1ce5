/**
 * nginx-proxy's `VIRTUAL_HOST_MULTIPORTS`: the hosts, paths and ports of one container, as
 * YAML (or JSON, which is YAML's flow form):
 *
 * ```yaml
 * www.example.org:            # every host: "/" on the default port when nothing follows
 *   external_http_port: 8080  # optional, the port the host is served on
 *   "/api":
 *     port: 8000              # optional: the default port
 *     proto: https            # optional: http
 *     dest: "/"               # optional: the path sent as requested
 * ```
 *
 * The text is untrusted (any container's environment): it is read by a small parser of the
 * subset of YAML this form needs (block and flow mappings of scalars, comments), bounded in
 * size and depth, with no anchors, tags or multi-line scalars; anything else, and a key given
 * twice (as Go's YAML reader nginx-proxy uses), is refused with the line. Pure.
 *
 * @module
 */

/** One path of a host: each field absent when the text does not give it. */
export interface MultiportsPath {
  /** The container port, as written (resolved like `VIRTUAL_PORT`). */
  port?: string;
  proto?: string;
  dest?: string;
}

/** One host of the text. */
export interface MultiportsHost {
  host: string;
  externalHttpPort?: string;
  externalHttpsPort?: string;
  /** Its paths in the order written; `/` alone when it names none. */
  paths: { path: string; settings: MultiportsPath }[];
}

/** The most bytes of text read (an environment variable holds a few lines). */
const MAX_TEXT = 65536;

/** A parsed value: a scalar, a mapping (ordered, keys unique), or nothing. */
type Node = string | null | Map<string, Node>;

/** Why the text is refused: one line, naming where. */
export class MultiportsError extends Error {}

/**
 * The hosts of a `VIRTUAL_HOST_MULTIPORTS` value, as nginx-proxy reads them: keys of a host
 * that do not start with `/` (other than the external ports) are ignored, as there.
 *
 * @example
 * ```ts
 * import { parseMultiports } from "./multiports.ts";
 * const [host] = parseMultiports('a.test:\n  "/api":\n    port: 8000\n    dest: "/"');
 * console.log(host.host, host.paths[0]); // a.test { path: "/api", settings: { port: "8000", dest: "/" } }
 * ```
 *
 * @throws {MultiportsError} e.g. `line 2: "test2.x:" is not a key: value`, `line 3: key "/" given twice`
 */
export function parseMultiports(text: string): MultiportsHost[] {
  if (text.length > MAX_TEXT) throw new MultiportsError(`longer than ${MAX_TEXT} bytes`);
  const root = text.trim().startsWith("{") ? parseFlowText(text) : parseBlock(text);
  if (!(root instanceof Map)) throw new MultiportsError("not a mapping of host names");
  return [...root].map(([host, value]) => hostOf(host, value));
}

function hostOf(host: string, value: Node): MultiportsHost {
  if (typeof value === "string") {
    throw new MultiportsError(`host ${JSON.stringify(host)}: a mapping of paths, not a value`);
  }
  const out: MultiportsHost = { host, paths: [] };
  for (const [key, node] of value ?? new Map<string, Node>()) {
    if (key === "external_http_port" || key === "external_https_port") {
      const port = scalarOf(node, `${host} ${key}`);
      if (port !== undefined) {
        out[key === "external_http_port" ? "externalHttpPort" : "externalHttpsPort"] = port;
      }
      continue;
    }
    if (!key.startsWith("/")) continue;
    if (typeof node === "string") {
      throw new MultiportsError(`${host} ${key}: a mapping of port, proto, dest, not a value`);
    }
    const settings: MultiportsPath = {};
    for (const [field, v] of node ?? new Map<string, Node>()) {
      if (field !== "port" && field !== "proto" && field !== "dest") continue;
      const scalar = scalarOf(v, `${host} ${key} ${field}`);
      if (scalar !== undefined) settings[field] = scalar;
    }
    out.paths.push({ path: key, settings });
  }
  if (out.paths.length === 0) out.paths.push({ path: "/", settings: {} });
  return out;
}

function scalarOf(node: Node, where: string): string | undefined {
  if (node instanceof Map) throw new MultiportsError(`${where}: a value, not a mapping`);
  return node === null || node === "" ? undefined : node;
}

/** Block mappings by indentation, the values scalars or flow mappings. */
function parseBlock(text: string): Node {
  const lines = text.split(/\r?\n/).map((raw, i) => ({ raw, number: i + 1 }))
    .filter(({ raw }) => !/^\s*(#.*)?$/.test(raw));
  let at = 0;
  const mapping = (indent: number, depth: number): Map<string, Node> => {
    if (depth > 3) throw new MultiportsError(`line ${lines[at].number}: nested too deep`);
    const map = new Map<string, Node>();
    while (at < lines.length) {
      const { raw, number } = lines[at];
      const own = raw.length - raw.trimStart().length;
      if (/^\s*\t/.test(raw)) throw new MultiportsError(`line ${number}: a tab in the indentation`);
      if (own < indent) break;
      if (own > indent) throw new MultiportsError(`line ${number}: indented more than its mapping`);
      const { key, rest } = keyOf(raw.slice(own), number);
      if (map.has(key)) {
        throw new MultiportsError(`line ${number}: key ${JSON.stringify(key)} given twice`);
      }
      at++;
      const next = lines[at];
      const nextIndent = next ? next.raw.length - next.raw.trimStart().length : -1;
      if (rest !== "") map.set(key, valueOf(rest, number));
      else if (next && nextIndent > indent) map.set(key, mapping(nextIndent, depth + 1));
      else map.set(key, null);
    }
    return map;
  };
  if (lines.length === 0) throw new MultiportsError("empty");
  const first = lines[0].raw;
  const root = mapping(first.length - first.trimStart().length, 1);
  if (at < lines.length) {
    throw new MultiportsError(`line ${lines[at].number}: indented less than the first line`);
  }
  return root;
}

/**
 * `key: rest` of one line (the rest without a trailing comment). Read without backtracking:
 * a quoted key up to its closing quote, a plain one up to the first `:` followed by a space or
 * the end of the line.
 */
function keyOf(line: string, number: number): { key: string; rest: string } {
  const refuse = (): never => {
    throw new MultiportsError(`line ${number}: ${JSON.stringify(line.trim())} is not a key: value`);
  };
  let key: string;
  let after: number;
  if (line.startsWith('"') || line.startsWith("'")) {
    const quoted = line.startsWith('"')
      ? /^"(?:[^"\\]|\\.)*"/.exec(line)
      : /^'(?:[^']|'')*'/.exec(line);
    if (!quoted) refuse();
    key = unquote(quoted![0], number);
    after = quoted![0].length;
    while (line[after] === " ") after++;
    if (line[after] !== ":") refuse();
  } else {
    if (/^[\s#{}\[\],&*!|>%@`?:-]/.test(line) && !/^-[^\s:#]/.test(line)) refuse();
    after = -1;
    for (let at = line.indexOf(":"); at >= 0; at = line.indexOf(":", at + 1)) {
      if (at + 1 === line.length || line[at + 1] === " ") {
        after = at;
        break;
      }
    }
    if (after < 0) refuse();
    key = line.slice(0, after).trimEnd();
    if (key.includes("#")) refuse();
  }
  const rest = line.slice(after + 1);
  if (rest !== "" && !rest.startsWith(" ")) refuse();
  return { key, rest: rest.replace(/(^|\s)#.*$/, "").trim() };
}

/** A value after `key:` on its line: a quoted or plain scalar, `~`/`null`, or a flow mapping. */
function valueOf(text: string, number: number): Node {
  if (text.startsWith("{")) return parseFlowText(text, number);
  if (text.startsWith('"') || text.startsWith("'")) return unquote(text, number);
  if (/^[&*!|>%@`\[]/.test(text)) {
    throw new MultiportsError(`line ${number}: ${JSON.stringify(text)} is not a plain value`);
  }
  return text === "~" || text === "null" ? null : text;
}

function unquote(text: string, number: number): string {
  if (text.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(text)) throw new MultiportsError(`line ${number}: unclosed quote`);
    return text.slice(1, -1).replaceAll("''", "'");
  }
  try {
    const value = JSON.parse(text);
    if (typeof value === "string") return value;
  } catch {
    // refused below
  }
  throw new MultiportsError(`line ${number}: ${text} is not a quoted string`);
}

/** A flow mapping (`{a: 1, "b": {}}`, JSON among them) that is the whole of `text`. */
function parseFlowText(text: string, number?: number): Node {
  const where = number === undefined ? "" : `line ${number}: `;
  let at = 0;
  const space = () => {
    while (at < text.length && /\s/.test(text[at])) at++;
  };
  const fail = (why: string): never => {
    throw new MultiportsError(`${where}${why} at character ${at + 1}`);
  };
  const scalar = (): string => {
    space();
    const quote = text[at];
    if (quote === '"' || quote === "'") {
      const end = quote === '"'
        ? /^"(?:[^"\\]|\\.)*"/.exec(text.slice(at))
        : /^'(?:[^']|'')*'/.exec(text.slice(at));
      if (!end) fail("an unclosed quote");
      at += end![0].length;
      return unquote(end![0], number ?? 1);
    }
    const plain = /^[^,{}\[\]:"'\s][^,{}\[\]:]*/.exec(text.slice(at));
    if (!plain) fail("a value expected");
    at += plain![0].length;
    return plain![0].trim();
  };
  const flow = (depth: number): Node => {
    space();
    if (text[at] !== "{") {
      const value = scalar();
      return value === "null" || value === "~" ? null : value;
    }
    if (depth > 3) fail("nested too deep");
    at++;
    const map = new Map<string, Node>();
    space();
    if (text[at] === "}") {
      at++;
      return map;
    }
    for (;;) {
      const key = scalar();
      space();
      if (text[at] !== ":") fail("':' expected");
      at++;
      if (map.has(key)) fail(`key ${JSON.stringify(key)} given twice`);
      space();
      map.set(key, text[at] === "," || text[at] === "}" ? null : flow(depth + 1));
      space();
      if (text[at] === ",") {
        at++;
        continue;
      }
      if (text[at] === "}") {
        at++;
        return map;
      }
      fail("',' or '}' expected");
    }
  };
  const node = flow(1);
  space();
  if (at < text.length && !text.slice(at).startsWith("#")) fail("text after the mapping");
  return node;
}
