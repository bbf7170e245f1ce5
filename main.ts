/**
 * The entry of the single-file build (`deno task bundle` writes `dist/lbsync.js`): the
 * library's exports for scripts that import the file, and the command when it is run.
 *
 * @module
 */
import { runCli } from "./cli.ts";

export * from "./mod.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
