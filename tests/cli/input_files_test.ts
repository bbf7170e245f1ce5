/** Every input file is bounded: devices and FIFOs are refused before a read, sizes are limited. */
import assert from "node:assert/strict";
import { lbsync } from "../support/cli.ts";
import { ROOT } from "../support/fixtures.ts";
import { run } from "../support/tools.ts";
import { INPUT_FILE_LIMIT } from "../../lib/sources/files.ts";

const EXAMPLE = `${ROOT}/examples/containers.json`;

Deno.test("input files: a device, a FIFO or a directory is refused at once, naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-inputs-" });
  const fifo = `${dir}/fifo`;
  assert.equal((await run(["mkfifo", fifo])).code, 0);
  try {
    const cases: [string[], number, string][] = [
      [
        ["render", "-t", "/dev/zero", "-o", "-", "--from-file", EXAMPLE],
        2,
        "Cannot read template /dev/zero: not a regular file (a character device)",
      ],
      [
        ["render", "-t", `${fifo}`, "-o", "-", "--from-file", EXAMPLE],
        2,
        `Cannot read template ${fifo}: not a regular file (a FIFO)`,
      ],
      [
        ["render", "-t", "nginx", "-o", "-", "--from-file", fifo],
        1,
        `Cannot read containers from ${fifo}: not a regular file (a FIFO)`,
      ],
      [
        ["explain", "--from-file", `${dir}/`],
        1,
        `Cannot read containers from ${dir}/: not a regular file (a directory)`,
      ],
      [["render", "--config", fifo], 2, `Cannot read config ${fifo}: not a regular file (a FIFO)`],
    ];
    for (const [args, code, message] of cases) {
      const r = await lbsync(args);
      assert.equal(r.code, code, r.stderr);
      assert.equal(r.stderr, `lbsync: error: ${message}\n`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("input files: a file over the limit is refused before it is read", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-inputs-" });
  const big = `${dir}/big.json`;
  try {
    await Deno.writeTextFile(big, "[");
    await Deno.truncate(big, INPUT_FILE_LIMIT + 1); // sparse: nothing is written
    const r = await lbsync(["explain", "--from-file", big]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `lbsync: error: Cannot read containers from ${big}: over ${INPUT_FILE_LIMIT} bytes (${
        INPUT_FILE_LIMIT + 1
      })\n`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
