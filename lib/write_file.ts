/**
 * Atomic file replacement: temp file in the same directory, fsync, rename, mode kept.
 *
 * @module
 */
import { ApplyError, errorMessage } from "./errors.ts";

/**
 * The live content of `path`, or `undefined` when it does not exist.
 *
 * @throws {ApplyError} when it exists but cannot be read
 */
export async function readLive(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new ApplyError(`Cannot read ${path}: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * Replaces `path` with `text` atomically: readers see the old file or the new one, never a
 * mix. A bind-mounted single file (rename fails with EBUSY or EXDEV) is written in place.
 *
 * @throws {ApplyError} naming the path and the cause; the old file is then untouched
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".";
  const base = path.slice(path.lastIndexOf("/") + 1);
  let mode: number | null = 0o644;
  try {
    mode = (await Deno.stat(path)).mode;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw applyError(path, error);
  }
  let temp: string | undefined;
  try {
    temp = await Deno.makeTempFile({ dir, prefix: `.${base}.`, suffix: ".tmp" });
    await writeAndSync(temp, text, mode);
    await Deno.rename(temp, path);
    temp = undefined;
  } catch (error) {
    if (temp !== undefined) await Deno.remove(temp).catch(() => {});
    if (error instanceof Deno.errors.Busy || isCrossDevice(error)) {
      await writeInPlace(path, text);
      return;
    }
    throw applyError(path, error);
  }
}

async function writeAndSync(path: string, text: string, mode: number | null): Promise<void> {
  const file = await Deno.open(path, { write: true, truncate: true });
  try {
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
  if (mode !== null) await Deno.chmod(path, mode & 0o7777);
}

async function writeInPlace(path: string, text: string): Promise<void> {
  try {
    await writeAndSync(path, text, null);
  } catch (error) {
    throw applyError(path, error);
  }
}

function isCrossDevice(error: unknown): boolean {
  return error instanceof Error && /EXDEV|os error 18\b|cross-device/i.test(error.message);
}

function applyError(path: string, error: unknown): ApplyError {
  return new ApplyError(`Cannot write ${path}: ${errorMessage(error)}`, { cause: error });
}
