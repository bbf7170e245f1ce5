/**
 * `--from-status URL`: the model a running watch applied, read from its status listener
 * (`GET URL/model`) within a deadline and a size limit, and checked as untrusted input.
 *
 * @module
 */
import { DEFAULTS } from "../core/defaults.ts";
import { StatusError } from "../core/errors.ts";
import { escapeControls } from "../core/util/escape.ts";
import { LIVE_MODEL_MAX_BYTES, type LiveModel, parseLiveModel } from "../core/live_model.ts";
import { describeTransportError, formatMs, readBody } from "./http_exchange.ts";

/** Bounds of reading a watch's model. */
export interface StatusLimits {
  /** Deadline of the request, headers and body together, in ms (default 10 s). */
  timeoutMs: number;
  /** Largest answer read, in bytes (default 64 MiB). */
  maxBytes: number;
}

/**
 * The model in force of the watch whose status listener is at `url` (`http://HOST:PORT`).
 * Redirects are not followed: the status listener sends none.
 *
 * @example
 * ```ts ignore
 * import { readLiveModel } from "./watch_status.ts";
 * const live = await readLiveModel("http://127.0.0.1:9090");
 * console.log(live.listen, live.result.model.services.length);
 * ```
 *
 * @throws {StatusError} one line naming the URL and why: unreachable, timed out, an answer
 *   other than 200, too large, or not an lbsync model
 */
export async function readLiveModel(
  url: string,
  limits: Partial<StatusLimits> = {},
): Promise<LiveModel> {
  const { timeoutMs, maxBytes } = {
    timeoutMs: DEFAULTS.statusTimeoutMs,
    maxBytes: LIVE_MODEL_MAX_BYTES,
    ...limits,
  };
  const target = `${url.replace(/\/+$/, "")}/model`;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  try {
    const response = await fetch(target, { signal: deadline.signal, redirect: "manual" });
    const body = await readBody(response, maxBytes, deadline.signal, (r) => new StatusError(r));
    if (response.status !== 200) {
      const said = escapeControls(body.trim().split("\n")[0].slice(0, 200)) || "(no message)";
      throw new StatusError(`it answered ${response.status}: ${said}`);
    }
    return parseLiveModel(body);
  } catch (error) {
    const reason = deadline.signal.aborted
      ? `timed out after ${formatMs(timeoutMs)}`
      : error instanceof StatusError
      ? error.message
      : describeTransportError(error);
    throw new StatusError(`Cannot read the watch's model from ${target}: ${reason}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}
