/**
 * The version of a file the balancer's config names: a hash of its content, written into the
 * config so that a changed file changes the config and reloads the balancer.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The first 16 hex digits of the SHA-1 of a file's content, `""` when it cannot be read. */
export async function fileVersion(path: string): Promise<string> {
  const bytes = await Deno.readFile(path).catch(() => undefined);
  return bytes ? createHash("sha1").update(bytes).digest("hex").slice(0, 16) : "";
}
