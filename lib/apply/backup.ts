/**
 * Copies of replaced files, under the backup directory at the output's own absolute path
 * (`DIR/etc/nginx/conf.d/lbsync.conf.<UTC time>`), newest N kept per output: two outputs
 * with the same file name never prune each other's.
 *
 * @module
 */
import { ApplyError } from "../core/errors.ts";
import { describeFsError, writeFileAtomic } from "./write_file.ts";

/** `20261121T223443.123Z` for a date: sortable, safe in file names. */
export function backupStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "");
}

const STAMP = /^\d{8}T\d{6}\.\d{3}Z(?:-\d+)?$/;

/**
 * Saves `bytes` (the file being replaced) as `DIR/<absolute output path>.<stamp>`, then
 * deletes all but the newest `keep` backups of that output. Returns the backup's path.
 *
 * @throws {ApplyError} when the backup cannot be written (the live file is then not replaced)
 */
export async function backupFile(
  output: string,
  bytes: Uint8Array,
  dir: string,
  keep: number,
  now: Date,
): Promise<string> {
  const { folder, base } = backupLocation(dir, output);
  const stamp = backupStamp(now);
  try {
    await Deno.mkdir(folder, { recursive: true });
    let path = `${folder}/${base}.${stamp}`;
    for (let n = 1; await exists(path); n++) path = `${folder}/${base}.${stamp}-${n}`;
    await writeFileAtomic(path, bytes);
    await prune(folder, base, keep);
    return path;
  } catch (error) {
    if (error instanceof ApplyError) throw error;
    throw new ApplyError(`Cannot back up ${output} to ${dir}: ${describeFsError(error)}`, {
      cause: error,
    });
  }
}

/**
 * Where the backups of `output` go: the folder under `dir` that mirrors the output's absolute
 * directory, and the file name they start with.
 */
export function backupLocation(dir: string, output: string): { folder: string; base: string } {
  const absolute = output.startsWith("/") ? output : `${Deno.cwd()}/${output}`;
  const parts = absolute.split("/").filter((p) => p !== "" && p !== ".");
  const base = parts.pop()!;
  return { folder: [dir.replace(/\/+$/, ""), ...parts].join("/"), base };
}

/** Backups of `base` in `dir`, oldest first. */
export async function listBackups(dir: string, base: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.startsWith(`${base}.`)) continue;
    if (STAMP.test(entry.name.slice(base.length + 1))) names.push(entry.name);
  }
  return names.sort();
}

async function prune(dir: string, base: string, keep: number): Promise<void> {
  const names = await listBackups(dir, base);
  for (const name of names.slice(0, Math.max(0, names.length - keep))) {
    await Deno.remove(`${dir}/${name}`).catch(() => {});
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
