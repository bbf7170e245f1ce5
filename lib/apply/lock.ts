/**
 * A lock per output file, so overlapping runs (cron) never interleave writes to it.
 * The lock is a file created with O_EXCL holding the owner's pid; a lock whose owner is
 * dead (e.g. killed with -9) is taken over.
 *
 * @module
 */
import { ApplyError, errorMessage } from "../errors.ts";
import { dirname } from "../write_file.ts";

/** A held lock. */
export interface Lock {
  release(): Promise<void>;
}

/** Options of {@link acquireLock}. */
export interface LockOptions {
  /** How long to wait for another run, default 30 s. */
  timeoutMs?: number;
  /** Poll interval, default 50 ms. */
  pollMs?: number;
}

/** The lock file of an output. */
export function lockPath(output: string): string {
  const base = output.slice(output.lastIndexOf("/") + 1);
  return `${dirname(output)}/.${base}.lbsync-lock`;
}

/**
 * Takes the lock of `output`, waiting up to `timeoutMs` for another run to finish.
 *
 * @throws {ApplyError} when another live run holds it past the timeout
 */
export async function acquireLock(output: string, options: LockOptions = {}): Promise<Lock> {
  const path = lockPath(output);
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const me = String(Deno.pid);
  while (true) {
    try {
      const file = await Deno.open(path, { write: true, createNew: true });
      await file.write(new TextEncoder().encode(me));
      file.close();
      return {
        async release() {
          const owner = await Deno.readTextFile(path).catch(() => "");
          if (owner === me) await Deno.remove(path).catch(() => {});
        },
      };
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) {
        if (error instanceof Deno.errors.NotFound) return { release: () => Promise.resolve() };
        throw new ApplyError(`Cannot lock ${output}: ${errorMessage(error)}`, { cause: error });
      }
    }
    const owner = (await Deno.readTextFile(path).catch(() => "")).trim();
    if (owner === "" ? await olderThan(path, 5_000) : !isAlive(Number(owner))) {
      // the owner died without releasing: take it over (remove, then retry O_EXCL)
      await Deno.remove(path).catch(() => {});
      continue;
    }
    if (Date.now() >= deadline) {
      throw new ApplyError(
        `Cannot lock ${output}: another lbsync run (pid ${owner || "unknown"}) holds ${path}`,
      );
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 50));
  }
}

/** An empty lock file (owner killed before writing its pid) counts as stale after a while. */
async function olderThan(path: string, ms: number): Promise<boolean> {
  try {
    const mtime = (await Deno.stat(path)).mtime?.getTime() ?? 0;
    return Date.now() - mtime > ms;
  } catch {
    return true;
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) [ZX] /.test(stat); // a zombie is dead
  } catch {
    return false;
  }
}
