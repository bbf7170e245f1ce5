/**
 * A strict command-line tokenizer for a table of options: `--name value`, `--name=value`,
 * `-x value`, `-xvalue`, grouped one-letter flags (`-qv`), `--` ending the options.
 * Pure: argv in, tokens and values out, or a one-line `UsageError`. It replaces
 * `node:util`'s parseArgs, whose Node compatibility layer costs every start 5 MB.
 *
 * @module
 */
import { UsageError } from "../core/errors.ts";

/** What the tokenizer needs of an option. */
export interface ArgvOption {
  /** Long name, without `--`. */
  name: string;
  /** One-letter form, without `-`. */
  short?: string;
  /** `string` takes a value; `boolean` is a flag. */
  type: "string" | "boolean";
  /** May be given more than once (its values are collected in order). */
  multiple?: boolean;
}

/** One argument, in command-line order. */
export type ArgvToken =
  | { kind: "option"; name: string; value?: string }
  | { kind: "positional"; value: string }
  | { kind: "option-terminator" };

/** The tokens, the positionals, and each option's value (the last one, or all if multiple). */
export interface ParsedArgv {
  tokens: ArgvToken[];
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

/**
 * Splits `args` by `options`. `suggest` names the known option closest to an unknown one.
 *
 * @example
 * ```ts
 * import { parseArgv } from "./argv.ts";
 * const { values } = parseArgv(["-o", "out.conf", "--quiet"], [
 *   { name: "output", short: "o", type: "string" },
 *   { name: "quiet", short: "q", type: "boolean" },
 * ]);
 * console.log(values); // { output: "out.conf", quiet: true }
 * ```
 *
 * @throws {UsageError} for an unknown option, a missing value, or a value given to a flag
 */
export function parseArgv(
  args: readonly string[],
  options: readonly ArgvOption[],
  suggest: (typed: string) => string | undefined = () => undefined,
): ParsedArgv {
  const byLong = new Map(options.map((o) => [o.name, o]));
  const byShort = new Map(options.filter((o) => o.short).map((o) => [o.short!, o]));
  const parsed: ParsedArgv = { tokens: [], positionals: [], values: {} };
  const unknown = (typed: string): never => {
    const near = suggest(typed);
    throw new UsageError(
      `Unknown option ${typed}${near ? `; did you mean --${near}?` : ""} (see --help)`,
    );
  };
  const take = (option: ArgvOption, value?: string) => {
    parsed.tokens.push({ kind: "option", name: option.name, value });
    const given = value ?? true;
    if (!option.multiple) parsed.values[option.name] = given;
    else {
      const list = (parsed.values[option.name] ??= []) as string[];
      list.push(value!);
    }
  };
  /** The value of a string option written without `=`: the next argument, if not an option. */
  const nextValue = (option: ArgvOption, typed: string, index: number): string => {
    const next = args[index + 1];
    if (next === undefined) throw new UsageError(`${typed} needs a value`);
    if (next.length > 1 && next.startsWith("-")) {
      throw new UsageError(
        `${typed} needs a value, not the option ${next} (a value that starts with "-": --${option.name}=${next})`,
      );
    }
    return next;
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      parsed.tokens.push({ kind: "option-terminator" });
      for (const rest of args.slice(i + 1)) {
        parsed.tokens.push({ kind: "positional", value: rest });
        parsed.positionals.push(rest);
      }
      break;
    }
    if (arg.startsWith("--")) {
      const equals = arg.indexOf("=");
      const name = arg.slice(2, equals < 0 ? undefined : equals);
      const option = byLong.get(name) ?? unknown(`--${name}`);
      if (option.type === "boolean") {
        if (equals >= 0) throw new UsageError(`--${name} is a flag and takes no value`);
        take(option);
      } else if (equals >= 0) take(option, arg.slice(equals + 1));
      else take(option, nextValue(option, `--${name}`, i++));
      continue;
    }
    if (arg.length > 1 && arg.startsWith("-")) {
      // -x, -xVALUE, -x VALUE, or a group of flags -qv whose last letter may take a value
      for (let at = 1; at < arg.length; at++) {
        const option = byShort.get(arg[at]) ?? unknown(`-${arg[at]}`);
        if (option.type === "boolean") {
          take(option);
          continue;
        }
        if (at + 1 < arg.length) take(option, arg.slice(at + 1));
        else take(option, nextValue(option, `-${arg[at]}`, i++));
        break;
      }
      continue;
    }
    parsed.tokens.push({ kind: "positional", value: arg });
    parsed.positionals.push(arg);
  }
  return parsed;
}
