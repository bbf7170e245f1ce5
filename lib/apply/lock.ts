/**
 * A lock per output file, so overlapping runs (cron) never interleave writes to it: an
 * flock(2) on `.NAME.lbsync-lock` beside the output. The kernel drops it when its holder
 * exits, however it exits, so a killed run never leaves a stale lock, and no process id is
 * involved (PID reuse, lbsync as PID 1 in a container). The file stays: deleting it while
 * another run waits on it would let a third lock a new file next to it.
 *
 * @module
 */
import { DEFAULTS } from "../core/defaults.ts";
import { ApplyError, errorMessage, isNotFound } from "../core/errors.ts";
import { dirname } from "./write_file.ts";
import { deadline } from "../sources/deadline.ts";

/** A held lock. */
export interface Lock {
  release(): Promise<void>;
}

/** Options of {@link acquireLock}. */
export interface LockOptions {
  /** How long to wait for another run, default 30 s. */
  timeoutMs?: number;
}

/** The lock file of an output. */
export function lockPath(output: string): string {
  const base = output.slice(output.lastIndexOf("/") + 1);
  return `${dirname(output)}/.${base}.lbsync-lock`;
}

/**
 * Takes the lock of `output`, waiting up to `timeoutMs` for another run to finish.
 *
 * @throws {ApplyError} when another run holds it past the timeout
 */
export async function acquireLock(output: string, options: LockOptions = {}): Promise<Lock> {
  const path = lockPath(output);
  const timeoutMs = options.timeoutMs ?? DEFAULTS.lockTimeoutMs;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, create: true });
  } catch (error) {
    // no directory yet: there is nothing to overlap with, and staging reports it
    if (isNotFound(error)) return { release: () => Promise.resolve() };
    throw new ApplyError(`Cannot lock ${output}: ${errorMessage(error)}`, { cause: error });
  }
  const wait = deadline(timeoutMs, undefined, () => new Error("late"));
  const late = new Promise<false>((resolve) => {
    wait.signal.addEventListener("abort", () => resolve(false), { once: true });
  });
  const locked = file.lock(true).then(() => true as const);
  const got = await Promise.race([locked, late]).finally(() => wait.clear());
  if (!got) {
    // the pending flock holds the file open until it returns, then lets go of it
    file.close();
    locked.catch(() => {});
    throw new ApplyError(
      `Cannot lock ${output}: another lbsync run holds ${path} (waited ${timeoutMs} ms)`,
    );
  }
  return {
    async release() {
      try {
        await file.unlock();
      } finally {
        file.close();
      }
    },
  };
}
