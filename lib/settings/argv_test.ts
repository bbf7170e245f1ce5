/**
 * The command-line tokenizer (lib/settings/argv.ts): every form lbsync's options are written
 * in, its errors, and agreement with `node:util`'s parseArgs (which it replaced) on the tokens
 * and values of generated command lines that parseArgs accepts.
 */
import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { type ArgvOption, parseArgv } from "./argv.ts";
import { UsageError } from "../core/errors.ts";

const OPTIONS: ArgvOption[] = [
  { name: "template", short: "t", type: "string", multiple: true },
  { name: "output", short: "o", type: "string", multiple: true },
  { name: "docker", type: "string", multiple: true },
  { name: "heartbeat", type: "string" },
  { name: "quiet", short: "q", type: "boolean" },
  { name: "verbose", short: "v", type: "boolean" },
  { name: "dry-run", type: "boolean" },
];

Deno.test("argv: long, inline, short, attached and grouped forms, in order", () => {
  const parsed = parseArgv(
    ["render", "-t", "nginx", "-o-", "--heartbeat=2s", "-qv", "--docker", "unix:///a", "-tx"],
    OPTIONS,
  );
  assert.deepEqual(parsed.positionals, ["render"]);
  assert.deepEqual(parsed.values, {
    template: ["nginx", "x"],
    output: ["-"],
    heartbeat: "2s",
    quiet: true,
    verbose: true,
    docker: ["unix:///a"],
  });
  assert.deepEqual(parsed.tokens.map((t) => t.kind === "option" ? t.name : t.kind), [
    "positional",
    "template",
    "output",
    "heartbeat",
    "quiet",
    "verbose",
    "docker",
    "template",
  ]);
});

Deno.test("argv: -- ends the options; a lone - is a value", () => {
  const parsed = parseArgv(["-o", "-", "--", "--quiet", "x"], OPTIONS);
  assert.deepEqual(parsed.values, { output: ["-"] });
  assert.deepEqual(parsed.positionals, ["--quiet", "x"]);
});

Deno.test("argv: errors are one line naming the option", () => {
  const cases: [string[], string][] = [
    [["--nope"], "Unknown option --nope; did you mean --near? (see --help)"],
    [["-x"], "Unknown option -x; did you mean --near? (see --help)"],
    [["--heartbeat"], "--heartbeat needs a value"],
    [["-qt"], "-t needs a value"],
    [
      ["--heartbeat", "--quiet"],
      '--heartbeat needs a value, not the option --quiet (a value that starts with "-": --heartbeat=--quiet)',
    ],
    [["--quiet=yes"], "--quiet is a flag and takes no value"],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseArgv(args, OPTIONS, () => "near"), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.equal(e.message, message);
      return true;
    });
  }
});

/** What parseArgs returns, as far as the comparison reads it. */
interface NodeParsed {
  positionals: string[];
  values: Record<string, unknown>;
  tokens: { kind: string; name?: string; value?: string }[];
}

/** One argument of a generated command line. */
const argument = fc.oneof(
  fc.constantFrom("-t", "-o", "--docker", "--heartbeat", "-q", "-v", "-qv", "--dry-run", "--"),
  fc.constantFrom("nginx", "-", "out.conf", "2s", "render", "--heartbeat=1s", "-onginx", "-vt"),
  fc.stringMatching(/^[a-z0-9./:]{1,8}$/),
);

Deno.test("argv: agrees with node:util parseArgs wherever parseArgs accepts the line", () => {
  const nodeOptions = Object.fromEntries(OPTIONS.map((o) => [o.name, {
    type: o.type,
    ...(o.short ? { short: o.short } : {}),
    ...(o.multiple ? { multiple: true } : {}),
  }]));
  let compared = 0;
  fc.assert(
    fc.property(fc.array(argument, { maxLength: 8 }), (args) => {
      let expected: NodeParsed;
      try {
        expected = parseArgs({
          args,
          options: nodeOptions as NonNullable<Parameters<typeof parseArgs>[0]>["options"],
          allowPositionals: true,
          strict: true,
          tokens: true,
        }) as unknown as NodeParsed;
      } catch {
        // parseArgs refuses it: ours must refuse it too
        assert.throws(() => parseArgv(args, OPTIONS), UsageError);
        return;
      }
      compared++;
      const ours = parseArgv(args, OPTIONS);
      assert.deepEqual(ours.positionals, expected.positionals);
      assert.deepEqual(ours.values, { ...expected.values });
      assert.deepEqual(
        ours.tokens.map((t) => t.kind === "option" ? [t.name, t.value] : [t.kind]),
        expected.tokens.map((t) => t.kind === "option" ? [t.name, t.value] : [t.kind]),
      );
    }),
    { numRuns: 2_000, seed: 31 },
  );
  assert.ok(compared > 200, `only ${compared} accepted lines compared`);
});
