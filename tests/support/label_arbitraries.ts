/**
 * fast-check generators of lbsync's inputs, from its own grammars: host regexes of the dialect
 * (and just outside it: the code decides), host names, paths and label sets. Shared by the
 * property tests.
 */
import fc from "fast-check";

/** Characters the generated hosts are made of. */
export const HOST_ALPHABET = ["a", "b", "c", "0", "1", "-", "."];

function regexAtom(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom("a", "b", "c", "0", "-", "\\.", "."),
    fc.tuple(fc.boolean(), fc.subarray(["a-b", "0-1", "c", "\\.", "-"], { minLength: 1 }))
      .map(([negated, members]) => `[${negated ? "^" : ""}${members.join("")}]`),
  );
}

/** Host regex sources from the dialect's grammar: `^`, items, groups, an optional `$`. */
export const regexSource: fc.Arbitrary<string> = fc.letrec<{ seq: string; item: string }>(
  (tie) => ({
    item: fc.oneof(
      {
        weight: 6,
        arbitrary: fc.tuple(regexAtom(), fc.constantFrom("", "", "", "*", "+", "?"))
          .map(([a, q]) => a + q),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.array(tie("seq"), { minLength: 1, maxLength: 3 }), fc.boolean())
          .map(([options, optional]) => `(${options.join("|")})${optional ? "?" : ""}`),
      },
    ),
    seq: fc.array(tie("item"), { minLength: 1, maxLength: 4 }).map((items) => items.join("")),
  }),
).seq.chain((seq) => fc.boolean().map((end) => `^${seq}${end ? "$" : ""}`));

const hostLabel = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);

/** Host names: RFC 1123 names, some upper case, some `*.` wildcards. */
export const hostName: fc.Arbitrary<string> = fc.tuple(
  fc.array(hostLabel, { minLength: 1, maxLength: 4 }),
  fc.constantFrom("", "", "*.", "UPPER"),
).map(([labels, kind]) => {
  const name = labels.join(".");
  return kind === "UPPER" ? name.toUpperCase() : `${kind}${name}`;
});

/** `lbsync.host` values: one to three names or dialect regexes. */
export const hostLabelValue: fc.Arbitrary<string> = fc.array(
  fc.oneof({ weight: 4, arbitrary: hostName }, {
    weight: 1,
    arbitrary: regexSource.map((r) => `~${r}`),
  }),
  { minLength: 1, maxLength: 3 },
).map((hosts) => hosts.join(","));

/** `lbsync.path` values from the path grammar's characters and percent-escapes. */
export const pathValue: fc.Arbitrary<string> = fc.array(
  fc.oneof(
    fc.constantFrom(..."abcz09._~!*+,=:@-/".split("")),
    fc.constantFrom("%2F", "%41", "%7e", "%20", "%00", "%25"),
  ),
  { maxLength: 12 },
).map((parts) => `/${parts.join("")}`);

/** A set of lbsync labels for one container; every value follows its label's grammar. */
export const labelSet: fc.Arbitrary<Record<string, string>> = fc.record({
  "lbsync.service": fc.stringMatching(/^[a-z][a-z0-9_.-]{0,8}$/),
  "lbsync.port": fc.integer({ min: 1, max: 65535 }).map(String),
  "lbsync.host": hostLabelValue,
  "lbsync.path": pathValue,
  "lbsync.weight": fc.integer({ min: 1, max: 256 }).map(String),
  "lbsync.backup": fc.constantFrom("true", "false"),
  "lbsync.mode": fc.constantFrom("http", "http", "http", "tcp"),
  "lbsync.listen": fc.integer({ min: 1, max: 65535 }).map(String),
  "lbsync.health": fc.constantFrom("/", "/healthz", "/status?full=1", "/a-b_c.d"),
  "lbsync.balance": fc.constantFrom("roundrobin", "leastconn", "source", "random"),
  "lbsync.keepalive": fc.constantFrom("disabled", "0", "16", "1024"),
  "lbsync.access": fc.constantFrom("internal", "external"),
  "lbsync.proto": fc.constantFrom("http", "https"),
}, {
  requiredKeys: ["lbsync.service", "lbsync.port"],
});
