/**
 * The suite says what it did not run: this file runs next to last (files run in path order, lib/
 * and tests/'s groups first; zz_leaves_nothing_test.ts then finds its record gone) and names
 * every group of tests that was skipped, why, and how to run it. Under CI nothing may be
 * skipped for a missing tool or engine: such a test fails instead.
 */
import assert from "node:assert/strict";
import { IN_CI, skippedGroups } from "./support/tools.ts";

Deno.test("the run names every skipped group and how to run it; CI skips none", () => {
  const groups = skippedGroups();
  if (IN_CI) {
    assert.deepEqual(groups, [], "CI=true must fail a test whose tool is missing, not skip it");
    return;
  }
  if (groups.length === 0) return;
  const lines = groups.map((g) => `  - ${g.reason}\n      skipped in: ${g.files.join(", ")}`);
  console.error(
    `\nlbsync tests: ${groups.length} group(s) skipped, so this run does not check them:\n` +
      `${lines.join("\n")}\n  (CI=true runs every test and fails those whose tool is missing.)\n`,
  );
  assert.ok(groups.every((g) => g.files.length > 0 && g.reason.length > 0));
});
