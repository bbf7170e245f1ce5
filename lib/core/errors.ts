/**
 * Typed errors. The library throws these; only the CLI maps them to exit codes
 * (`ConfigError` and `UsageError`: 2, the others: 1).
 *
 * @module
 */

/** Base class: a one-line message that names what failed, on what, and why. */
export class LbsyncError extends Error {
  /** Creates an error with a one-line message and an optional cause. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command line. */
export class UsageError extends LbsyncError {}

/** Bad configuration: options, config file, template, regex. */
export class ConfigError extends LbsyncError {}

/**
 * Why a candidate container is left out, as a code that programs can test (`explain --json`
 * shows it). Text is for people; decisions use the code.
 */
export type SkipCode =
  | "disabled"
  | "bad-label"
  | "bad-name"
  | "bad-id"
  | "not-running"
  | "unhealthy"
  | "not-ready"
  | "no-port"
  | "no-address"
  | "no-listen"
  | "retired"
  | "conflict"
  | "port-in-use"
  | "quarantined"
  | "unsupported";

/** The settings a reason may point to, by their library name ({@link ModelOptions} fields). */
export type SettingName = "network" | "address" | "includeUnhealthy" | "match" | "matchImage";

/**
 * A setting that changes an outcome, as data: the library names it by its option field, the
 * command line by its flag (see {@link describeHint}).
 */
export interface SettingHint {
  /** The setting. */
  setting: SettingName;
  /** The value that helps, when one does (`published` for `address`). */
  value?: string;
}

/**
 * ` (option NAME VALUE)` for a hint, naming the setting with `name` (the library's field name
 * by default; the CLI passes its flag names); `""` without one.
 */
export function describeHint(
  hint: SettingHint | undefined,
  name: (setting: SettingName) => string = (s) => s,
): string {
  if (!hint) return "";
  return ` (option ${name(hint.setting)}${hint.value === undefined ? "" : ` ${hint.value}`})`;
}

/** A container that cannot be a server: a label value that breaks its grammar, or another
 * reason named by {@link SkipCode}. */
export class LabelError extends LbsyncError {
  /** Why, as a code: `bad-label` unless the thrower says otherwise. */
  readonly code: SkipCode;
  /** A setting that would let the container in, if one would. */
  readonly hint?: SettingHint;
  /** Creates the error; `code` defaults to `bad-label`. */
  constructor(
    message: string,
    options?: { cause?: unknown; code?: SkipCode; hint?: SettingHint },
  ) {
    super(message, options);
    this.code = options?.code ?? "bad-label";
    if (options?.hint) this.hint = options.hint;
  }
}

/** Docker data could not be read: engine unreachable, malformed API JSON. */
export class DockerError extends LbsyncError {}

/**
 * A running watch's model could not be read (`--from-status`): its status listener is
 * unreachable, answered with an error, or sent a document that is not lbsync's.
 */
export class StatusError extends LbsyncError {}

/** What part of an apply failed: `check`, `reload`, `stale` (a reload that did not take), or
 * `write` (writing, backing up, locking, signalling). */
export type ApplyStep = "check" | "reload" | "stale" | "write";

/** Writing, checking or reloading failed. */
export class ApplyError extends LbsyncError {
  /** The step that failed. */
  readonly step: ApplyStep;
  /** Creates the error; `step` defaults to `write`. */
  constructor(message: string, options?: { cause?: unknown; step?: ApplyStep }) {
    super(message, options);
    this.step = options?.step ?? "write";
  }
}

/** HAProxy's runtime API failed or disagreed; the caller falls back to a reload. */
export class RuntimeApiError extends LbsyncError {}

/** True for a file system error saying the path does not exist (`ENOENT`). */
export function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ENOENT";
}

/**
 * Why a file operation failed, in a few words: `missing` (default `no such file`) when the
 * path does not exist, `permission denied`, `is a directory`, or the error's message.
 */
export function fileErrorReason(error: unknown, missing = "no such file"): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOENT") return missing;
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return errorMessage(error);
}

/** The message of any thrown value, on one line. */
export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, " ").trim();
}
