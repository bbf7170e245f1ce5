/**
 * The text of `lbsync --help` and `lbsync help COMMAND`, made from the option table. Pure.
 *
 * @module
 */
import { type CommandName, COMMANDS, OPTION_SPECS, type OptionSpec } from "./options.ts";

const USAGE: Record<CommandName, string> = {
  render: "lbsync render  [options]   discover, render, write if changed, check, reload, exit",
  watch: "lbsync watch   [options]   the same, then follow events until SIGTERM / SIGINT",
  explain:
    "lbsync explain [options]   every candidate container: in, backup, conflict, idle or out,\n" +
    "                           and why",
  route: "lbsync route URL [options] the service, route and servers a request to URL reaches\n" +
    "                           (http://HOST[:PORT]/PATH, tcp://:PORT), by the rules both\n" +
    "                           balancers follow",
};

const COLUMN = 28;

/**
 * The help for every command, or for one: its usage and only the options it takes.
 *
 * @example
 * ```ts
 * import { helpText } from "./help.ts";
 * console.log(helpText("watch").includes("--heartbeat"), helpText("render").includes("--heartbeat")); // true false
 * ```
 */
export function helpText(command?: CommandName): string {
  const usage = command === undefined
    ? [
      ...COMMANDS.map((c) => USAGE[c]),
      "lbsync store import FILE | export   static services between a config file and --store",
      "lbsync help [COMMAND] | COMMAND --help | --version",
    ]
    : [USAGE[command]];
  const lines = [
    "lbsync: keep nginx or HAProxy backends in step with Docker containers",
    "",
    "Usage:",
    ...usage.map((u) => indent(u, 2)),
  ];
  let section = "";
  for (const o of OPTION_SPECS) {
    if (command !== undefined && !o.commands.includes(command)) continue;
    if (o.section !== section) {
      section = o.section;
      lines.push("", `${section}:`);
    }
    lines.push(...optionLines(o, command === undefined));
  }
  lines.push(
    "",
    "Durations (DUR): 250ms, 1.5s, 5m, 2h or 0; at most 596h.",
    "Exit codes: 0 success (changed or not), 1 failure at run time, 2 usage or configuration error.",
    "",
  );
  return lines.join("\n");
}

function optionLines(o: OptionSpec, markCommands: boolean): string[] {
  const left = `  ${o.short ? `-${o.short}, ` : ""}--${o.name}${o.value ? ` ${o.value}` : ""}`;
  const help = o.help.split("\n");
  if (markCommands && o.commands.length < COMMANDS.length) {
    help[help.length - 1] += ` [${o.commands.join(", ")}]`;
  }
  const first = left.length < COLUMN - 1
    ? [`${left.padEnd(COLUMN)}${help[0]}`]
    : [left, `${"".padEnd(COLUMN)}${help[0]}`];
  return [...first, ...help.slice(1).map((h) => `${"".padEnd(COLUMN)}${h}`)];
}

function indent(text: string, n: number): string {
  return text.split("\n").map((l) => " ".repeat(n) + l).join("\n");
}
