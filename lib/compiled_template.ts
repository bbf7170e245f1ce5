/**
 * Mustache templates compiled once into closures: the tokens of `Mustache.parse` become a
 * tree of functions that render with the exact lookup and section rules of mustache.js 4.2
 * (context stack, dotted names, `.`, falsy and empty-list sections, standalone partial
 * indentation), without its per-render token walk and per-context lookup caches. Pure.
 * A view holding functions (lambdas) is rendered by mustache.js itself.
 *
 * @module
 */
// @deno-types="npm:@types/mustache@^4.2.5"
import Mustache from "npm:mustache@^4.2.0";

/** A compiled template: renders a view with optional partials. */
export type CompiledTemplate = (view: unknown, partials?: Record<string, string>) => string;

/** The context stack: a view and the contexts around it. */
interface Context {
  view: unknown;
  parent: Context | undefined;
}

type Part = (context: Context, partials: Record<string, string>) => string;

/**
 * Thrown when a view holds something only mustache.js handles (a function, a null context):
 * the caller renders with mustache.js instead.
 */
export class NeedsMustache extends Error {}

type Token = [string, string, number, number, ...unknown[]];

/**
 * Compiles `template` (default `{{ }}` tags, no escaping: configuration files are not HTML).
 *
 * @throws {Error} from `Mustache.parse` when the template does not parse
 */
export function compileTemplate(template: string): CompiledTemplate {
  const part = compileTokens(Mustache.parse(template) as unknown as Token[]);
  return (view, partials = {}) => part({ view, parent: undefined }, partials);
}

function compileTokens(tokens: Token[]): Part {
  const parts = tokens.map(compileToken).filter((p): p is Part | string => p !== undefined);
  if (parts.length === 1) {
    const [only] = parts;
    return typeof only === "string" ? () => only : only;
  }
  return (context, partials) => {
    let out = "";
    for (const p of parts) out += typeof p === "string" ? p : p(context, partials);
    return out;
  };
}

function compileToken(token: Token): Part | string | undefined {
  const [symbol, name] = token;
  switch (symbol) {
    case "text":
      return name;
    case "name":
    case "&": {
      const lookup = compileLookup(name);
      return (context) => {
        const value = lookup(context);
        return value == null ? "" : String(value);
      };
    }
    case "#":
      return compileSection(compileLookup(name), compileTokens(token[4] as Token[]));
    case "^": {
      const lookup = compileLookup(name);
      const body = compileTokens(token[4] as Token[]);
      return (context, partials) => {
        const value = lookup(context);
        return !value || (Array.isArray(value) && value.length === 0)
          ? body(context, partials)
          : "";
      };
    }
    case ">":
      return compilePartial(name, token[4] as string, token[5] as number, token[6] as boolean);
    default: // comments and delimiter changes render nothing
      return undefined;
  }
}

function compileSection(lookup: (c: Context) => unknown, body: Part): Part {
  return (context, partials) => {
    const value = lookup(context);
    if (!value) return "";
    if (Array.isArray(value)) {
      let out = "";
      for (let i = 0; i < value.length; i++) {
        out += body({ view: value[i], parent: context }, partials);
      }
      return out;
    }
    if (typeof value === "object" || typeof value === "string" || typeof value === "number") {
      return body({ view: value, parent: context }, partials);
    }
    return body(context, partials); // true
  };
}

function compilePartial(
  name: string,
  indentation: string,
  tagIndex: number,
  lineHasNonSpace: boolean,
): Part {
  const cache = new Map<string, Part>();
  return (context, partials) => {
    const text = partials[name];
    if (text == null) return "";
    let part = cache.get(text);
    if (!part) {
      const indented = tagIndex == 0 && indentation
        ? indentPartial(text, indentation, lineHasNonSpace)
        : text;
      part = compileTokens(Mustache.parse(indented) as unknown as Token[]);
      cache.set(text, part);
    }
    return part(context, partials);
  };
}

function indentPartial(partial: string, indentation: string, lineHasNonSpace: boolean): string {
  const filtered = indentation.replace(/[^ \t]/g, "");
  return partial.split("\n")
    .map((line, i) => line.length && (i > 0 || !lineHasNonSpace) ? filtered + line : line)
    .join("\n");
}

/** The lookup of `name` through the context stack, as mustache.js's `Context.lookup`. */
function compileLookup(name: string): (context: Context) => unknown {
  if (name === ".") return (context) => checked(context.view);
  if (name.indexOf(".") > 0) {
    const names = name.split(".");
    const last = names.length - 1;
    return (start) => {
      for (let context: Context | undefined = start; context; context = context.parent) {
        let value = context.view as Record<string, unknown> | null | undefined;
        let hit = false;
        for (let i = 0; value != null && i < names.length; i++) {
          if (i === last) hit = hasProperty(value, names[i]) || primitiveHas(value, names[i]);
          value = value[names[i]] as Record<string, unknown> | null | undefined;
        }
        if (hit) return checked(value);
      }
      return undefined;
    };
  }
  return (start) => {
    for (let context: Context | undefined = start; context; context = context.parent) {
      const view = context.view;
      if (view == null) throw new NeedsMustache(); // mustache.js throws a TypeError here
      if (typeof view === "object" && name in view) {
        return checked((view as Record<string, unknown>)[name]);
      }
    }
    return undefined;
  };
}

function checked(value: unknown): unknown {
  if (typeof value === "function") throw new NeedsMustache();
  return value;
}

function hasProperty(value: unknown, name: string): boolean {
  return value != null && typeof value === "object" && name in value;
}

function primitiveHas(value: unknown, name: string): boolean {
  return value != null && typeof value !== "object" &&
    Object.prototype.hasOwnProperty.call(value, name);
}
