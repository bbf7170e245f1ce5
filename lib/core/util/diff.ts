/**
 * Unified diffs for `--dry-run`. Pure.
 *
 * @module
 */
import { createTwoFilesPatch } from "npm:diff@^8.0.2";

/**
 * A unified diff from `before` (the live file, `undefined` when missing) to `after`;
 * `""` when they are equal.
 *
 * @example
 * ```ts
 * import { unifiedDiff } from "./diff.ts";
 * console.log(unifiedDiff("lbsync.conf", "a\n", "b\n"));
 * ```
 */
export function unifiedDiff(path: string, before: string | undefined, after: string): string {
  if (before === after) return "";
  const from = before === undefined ? "/dev/null" : `${path} (live)`;
  return createTwoFilesPatch(
    from,
    `${path} (rendered)`,
    before ?? "",
    after,
    undefined,
    undefined,
    {
      context: 3,
    },
  ).replace(/^=+\n/, "");
}
