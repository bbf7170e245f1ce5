/**
 * The version of a file the balancer's config names: a hash of its content, written into the
 * config so that a changed file changes the config and reloads the balancer.
 *
 * @module
 */
import { sha1 } from "../core/util/sha1.ts";
import { readInputFile } from "./files.ts";

/**
 * The first 16 hex digits of the SHA-1 of a file's content, `""` when it cannot be read or is
 * not a regular file within the input limit (a FIFO would block the read, a device never end).
 */
export async function fileVersion(path: string): Promise<string> {
  const text = await readInputFile(path).catch(() => undefined);
  return text === undefined ? "" : sha1(text).slice(0, 16);
}
