/**
 * The reference tables of docs/, made from the tables in the code: the options of
 * {@link OPTION_SPECS} (docs/cli.md) and the labels of {@link LABEL_REFERENCE} (docs/labels.md).
 * `deno task docs` writes them between their markers; a test keeps the files equal to this.
 * Pure.
 *
 * @module
 */
import { LABEL_REFERENCE } from "../core/model/label_reference.ts";
import { type ContainerLabels, LABEL_SUFFIX } from "../core/model/labels.ts";
import { COMMANDS, OPTION_SPECS, type OptionSpec } from "./options.ts";

/** A generated table: the file it lives in and its marker name. */
export interface ReferenceTable {
  /** Path from the project root. */
  file: string;
  /** The table sits between `<!-- NAME:begin -->` and `<!-- NAME:end -->`. */
  marker: string;
  /** The Markdown of the table, without the markers. */
  markdown: string;
}

/** Every generated table. */
export function referenceTables(): ReferenceTable[] {
  return [
    { file: "docs/cli.md", marker: "options", markdown: optionsTable() },
    { file: "docs/labels.md", marker: "labels", markdown: labelsTable() },
  ];
}

/** The options table: one row per option, grouped by help section, with its commands. */
export function optionsTable(): string {
  const rows: string[][] = [];
  let section = "";
  for (const o of OPTION_SPECS) {
    if (o.section !== section) {
      section = o.section;
      rows.push([`**${escapeCell(section)}**`, "", ""]);
    }
    rows.push([`\`${flagText(o)}\``, commandsText(o), escapeCell(o.help.replaceAll("\n", " "))]);
  }
  return table(["option", "commands", "meaning"], rows);
}

/** The labels table: `lbsync.NAME`, meaning, default. */
export function labelsTable(): string {
  const fields = Object.keys(LABEL_REFERENCE) as (keyof ContainerLabels)[];
  return table(
    ["label", "meaning", "default"],
    fields.map((f) => [
      `\`lbsync.${LABEL_SUFFIX[f]}\``,
      escapeCell(LABEL_REFERENCE[f].meaning),
      escapeCell(LABEL_REFERENCE[f].default),
    ]),
  );
}

/** Replaces the text between a file's markers with the table; throws when a marker is missing. */
export function withTable(text: string, t: ReferenceTable): string {
  const begin = `<!-- ${t.marker}:begin -->`;
  const end = `<!-- ${t.marker}:end -->`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${t.file}: markers ${begin} ... ${end} not found`);
  return `${text.slice(0, from + begin.length)}\n\n${t.markdown}\n\n${text.slice(to)}`;
}

function flagText(o: OptionSpec): string {
  const flag = `${o.short ? `-${o.short}, ` : ""}--${o.name}${o.value ? ` ${o.value}` : ""}`;
  return escapeCell(o.multiple ? `${flag} ...` : flag);
}

function commandsText(o: OptionSpec): string {
  return o.commands.length === COMMANDS.length ? "all" : o.commands.join(", ");
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|");
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(head), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)]
    .join("\n");
}
