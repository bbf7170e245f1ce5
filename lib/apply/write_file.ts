/**
 * Atomic file replacement: temp file in the same directory, fsync, rename, mode kept.
 *
 * @module
 */
import { ApplyError, errorMessage, isNotFound } from "../core/errors.ts";

/**
 * The live bytes of `path`, or `undefined` when it does not exist.
 *
 * @throws {ApplyError} when it exists but cannot be read
 */
export async function readLive(path: string): Promise<Uint8Array | undefined> {
  const target = await resolveOutput(path);
  try {
    return await Deno.readFile(target);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new ApplyError(`Cannot read ${path}: ${errorMessage(error)}`, { cause: error });
  }
}

/** New content written next to its destination, not yet in place. */
export interface StagedFile {
  /** Destination. */
  path: string;
  /** The temp file holding the new content (what a `{}` check validates). */
  temp: string;
  /** Puts the new content in place: rename, or an in-place write for a bind-mounted file. */
  commit(): Promise<void>;
  /** Removes the temp file. */
  discard(): Promise<void>;
}

/**
 * Writes `bytes` to a temp file in the directory of `path`, with the mode of the live file
 * (0644 for a new one), and fsyncs it.
 *
 * @throws {ApplyError} naming the path and the cause; nothing is left behind
 */
export async function stageFile(output: string, bytes: Uint8Array): Promise<StagedFile> {
  // a symlinked output is written through to its target, in the target's directory
  const path = await resolveOutput(output);
  const dir = dirname(path);
  const base = path.slice(path.lastIndexOf("/") + 1);
  let mode = 0o644;
  try {
    mode = (await Deno.stat(path)).mode! & 0o7777;
  } catch (error) {
    if (!isNotFound(error)) throw applyError(path, error);
  }
  let temp: string;
  try {
    temp = await Deno.makeTempFile({ dir, prefix: `.${base}.`, suffix: ".lbsync-tmp" });
  } catch (error) {
    throw applyError(path, error);
  }
  try {
    await writeAndSync(temp, bytes);
    await Deno.chmod(temp, mode);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw applyError(path, error);
  }
  const discard = () => Deno.remove(temp).catch(() => {});
  return {
    path,
    temp,
    discard,
    async commit() {
      try {
        await Deno.rename(temp, path);
      } catch (error) {
        if (!cannotReplace(error)) {
          await discard();
          throw applyError(path, error);
        }
        // A bind-mounted single file cannot be replaced: write it in place. A journal names
        // the temp file meanwhile, so a run killed halfway is finished by the next one.
        const journal = journalPath(path);
        try {
          await Deno.writeTextFile(journal, temp);
          await overwriteInPlace(path, bytes);
        } catch (inPlace) {
          throw applyError(path, inPlace);
        } finally {
          await Deno.remove(journal).catch(() => {});
          await discard();
        }
      }
    },
  };
}

/**
 * Replaces `path` with `text` atomically: readers see the old file or the new one, never a
 * mix. A bind-mounted single file (rename fails with EBUSY or EXDEV) is written in place.
 *
 * @throws {ApplyError} naming the path and the cause; the old file is then untouched
 */
export async function writeFileAtomic(path: string, text: string | Uint8Array): Promise<void> {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  await (await stageFile(path, bytes)).commit();
}

/**
 * The file an output path writes to: itself, or the target of a symlink (followed to the
 * end, relative links resolved). Only regular files (or nothing yet) are outputs.
 *
 * @throws {ApplyError} for a directory, FIFO, socket or device, or a path under /proc, /sys
 *   or /dev, naming the path and what it is
 */
export async function resolveOutput(path: string): Promise<string> {
  let target = path;
  for (let hops = 0; hops < 40; hops++) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(target);
    } catch (error) {
      if (isNotFound(error)) return refuseSpecial(path, target);
      throw new ApplyError(`Cannot read ${path}: ${describeFsError(error)}`, { cause: error });
    }
    if (info.isSymlink) {
      const link = await Deno.readLink(target);
      target = link.startsWith("/") ? link : `${dirname(target)}/${link}`;
      continue;
    }
    refuseSpecial(path, target);
    if (!info.isFile) {
      throw new ApplyError(`Cannot write ${path}: not a regular file (${kindOf(info)})`);
    }
    return target;
  }
  throw new ApplyError(`Cannot write ${path}: too many levels of symbolic links`);
}

function refuseSpecial(path: string, target: string): string {
  if (/^\/(proc|sys|dev)(\/|$)/.test(target)) {
    throw new ApplyError(
      `Cannot write ${path}: ${target} is under /${target.split("/")[1]}, not a regular file`,
    );
  }
  return target;
}

function kindOf(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO";
  if (info.isSocket) return "a socket";
  if (info.isCharDevice || info.isBlockDevice) return "a device";
  return "not a file";
}

/** Removes temp files a killed run left next to `path` (call while holding its lock). */
export async function removeStaleTemps(output: string): Promise<void> {
  const path = await resolveOutput(output).catch(() => output);
  const base = path.slice(path.lastIndexOf("/") + 1);
  await finishInPlaceWrite(path);
  try {
    for await (const entry of Deno.readDir(dirname(path))) {
      if (entry.name.startsWith(`.${base}.`) && entry.name.endsWith(".lbsync-tmp")) {
        await Deno.remove(`${dirname(path)}/${entry.name}`).catch(() => {});
      }
    }
  } catch {
    // the directory may not exist yet: staging reports that
  }
}

/** The journal of an in-place write of `path`: it holds the temp file's path. */
function journalPath(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return `${dirname(path)}/.${base}.lbsync-inplace`;
}

/**
 * A run killed during an in-place write left a journal: write the new bytes it names again
 * (rolling forward to the file that run meant), then drop the journal. Call under the lock.
 */
async function finishInPlaceWrite(path: string): Promise<void> {
  const journal = journalPath(path);
  const temp = await Deno.readTextFile(journal).catch(() => undefined);
  if (temp === undefined) return;
  const bytes = await Deno.readFile(temp.trim()).catch(() => undefined);
  if (bytes !== undefined) await overwriteInPlace(path, bytes);
  await Deno.remove(journal).catch(() => {});
}

/** The directory part of `path`. */
export function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

async function writeAndSync(path: string, bytes: Uint8Array): Promise<void> {
  const file = await Deno.open(path, { write: true, truncate: true, create: true });
  try {
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
}

/**
 * Writes `bytes` over the file at `path` without truncating it first: the old blocks stay
 * allocated, so a full disk can only stop the write past the old length. On any error the
 * old bytes are written back over the same blocks and the file cut to its old length, then
 * the error is rethrown.
 */
async function overwriteInPlace(path: string, bytes: Uint8Array): Promise<void> {
  const old = await Deno.readFile(path);
  const file = await Deno.open(path, { read: true, write: true });
  try {
    try {
      await writeAllAt(file, bytes);
      if (bytes.length < old.length) await file.truncate(bytes.length);
      await file.sync();
    } catch (error) {
      await writeAllAt(file, old);
      await file.truncate(old.length);
      await file.sync();
      throw error;
    }
  } finally {
    file.close();
  }
}

async function writeAllAt(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  await file.seek(0, Deno.SeekMode.Start);
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

/** EBUSY (a bind-mounted file) or EXDEV (another file system): rename cannot replace it. */
function cannotReplace(error: unknown): boolean {
  return error instanceof Deno.errors.Busy ||
    (error instanceof Error &&
      /EBUSY|EXDEV|os error (16|18)\b|resource busy|cross-device/i.test(error.message));
}

function applyError(path: string, error: unknown): ApplyError {
  return new ApplyError(`Cannot write ${path}: ${describeFsError(error)}`, { cause: error });
}

/** A short cause for a file-system error. */
export function describeFsError(error: unknown): string {
  if (isNotFound(error)) return "no such directory";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  const message = errorMessage(error);
  if (/os error 28\b|ENOSPC/i.test(message)) return "no space left on device";
  if (/os error 30\b|EROFS|read-only/i.test(message)) return "read-only file system";
  return message;
}
