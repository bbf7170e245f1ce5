/**
 * Run and watch options finalized: checked once, every default applied, so the shell reads a
 * setting and never restates its default. Pure.
 *
 * @module
 */
import { DEFAULTS } from "../core/defaults.ts";
import { finalizeModelOptions, type ModelSettings } from "../core/model/model_settings.ts";
import type { RunOptions, WatchOptions } from "./run_options.ts";

/** {@link RunOptions} with the defaults of the model and of readiness and draining applied. */
export type RunSettings =
  & Readonly<Omit<RunOptions, keyof ModelSettings | "readyTimeoutMs" | "drainTimeoutMs">>
  & ModelSettings
  & { readonly readyTimeoutMs: number; readonly drainTimeoutMs: number };

/** {@link WatchOptions} finalized likewise, with the batching and resync defaults. */
export type WatchSettings =
  & Readonly<Omit<WatchOptions, keyof RunSettings | "heartbeat" | "resyncMs">>
  & RunSettings
  & Required<Pick<WatchOptions, "heartbeat" | "resyncMs">>;

/**
 * Checks `options` and applies the defaults.
 *
 * @throws {ConfigError} when a model option is invalid
 */
export function finalizeRunOptions(options: RunOptions): RunSettings {
  return {
    ...options,
    ...finalizeModelOptions(options),
    readyTimeoutMs: options.readyTimeoutMs ?? DEFAULTS.readyTimeoutMs,
    drainTimeoutMs: options.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs,
  };
}

/**
 * Checks `options` and applies the defaults, watch mode's included.
 *
 * @throws {ConfigError} when a model option is invalid
 */
export function finalizeWatchOptions(options: WatchOptions): WatchSettings {
  return {
    ...options,
    ...finalizeRunOptions(options),
    heartbeat: options.heartbeat ?? DEFAULTS.heartbeat,
    resyncMs: options.resyncMs ?? DEFAULTS.resyncMs,
  };
}
