/**
 * Log lines for the CLI: readable text or one JSON object per line.
 *
 * @module
 */
import { escapeControls } from "../core/util/escape.ts";
import type { LogSettings } from "../settings/cli_args.ts";

/** Severity of a log line. */
export type LogLevel = "error" | "warn" | "info" | "debug";

/** Writes log lines. */
export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 1, debug: 2 };

/**
 * A logger writing whole lines to `write`. Level 0 shows errors, 1 warnings and info
 * too, 2 everything.
 */
export function createLogger(
  settings: LogSettings,
  write: (line: string) => void,
  now: () => Date = () => new Date(),
): Logger {
  const emit = (level: LogLevel) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (RANK[level] > settings.level) return;
    if (settings.format === "json") {
      write(JSON.stringify({ time: now().toISOString(), level, msg, ...fields }));
      return;
    }
    const extra = Object.entries(fields).map(([k, v]) => ` ${k}=${formatValue(v)}`).join("");
    const prefix = level === "error" ? "error: " : level === "warn" ? "warning: " : "";
    write(`lbsync: ${prefix}${escapeControls(msg)}${extra}`);
  };
  return { error: emit("error"), warn: emit("warn"), info: emit("info"), debug: emit("debug") };
}

function formatValue(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  // deno-lint-ignore no-control-regex
  return /^[^\s"=\x00-\x1f\x7f]*$/.test(text)
    ? escapeControls(text)
    : escapeControls(JSON.stringify(text));
}
