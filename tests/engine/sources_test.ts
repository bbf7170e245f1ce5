/**
 * Docker sources against real engines: request count, several engines, TLS, and the error
 * message for each way an engine can be out of reach.
 */
import assert from "node:assert/strict";
import { ROOT } from "../support/fixtures.ts";
import { countingProxy } from "../support/counting_proxy.ts";
import { ENGINE_SOCK, engineMissing, Scenario } from "../support/engine.ts";
import { freePort } from "../support/balancers.ts";
import { missing, run } from "../support/tools.ts";
import { lbsync } from "../support/cli.ts";

const noEngine = await engineMissing();

Deno.test({
  name: "engine: one discovery pass makes exactly one request per engine, however many containers",
  ignore: noEngine,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s = new Scenario();
    const dir = await Deno.makeTempDir({ prefix: "lbsync-proxy-" });
    const a = countingProxy(dir, ENGINE_SOCK);
    const b = countingProxy(dir, ENGINE_SOCK);
    try {
      for (let i = 0; i < 6; i++) {
        await s.run(`many-${i}`, [
          "-l",
          `t${s.tag}.service=svc${i % 2}`,
          "-l",
          `t${s.tag}.host=svc${i % 2}.test`,
        ]);
      }
      const one = await lbsync([
        "render",
        "--docker",
        `unix://${a.socketPath}`,
        "--label-prefix",
        `t${s.tag}`,
        "-t",
        "haproxy",
        "-q",
      ]);
      assert.equal(one.code, 0, one.stderr);
      assert.deepEqual(a.requests, ["GET /containers/json?all=true"]);
      assert.equal((one.stdout.match(/^ {4}server /gm) ?? []).length, 6);

      // two endpoints: one request each, containers merged, engines named, names unique
      a.requests.length = 0;
      const two = await lbsync([
        "explain",
        "--docker",
        `unix://${a.socketPath}`,
        "--docker",
        `unix://${b.socketPath}`,
        "--label-prefix",
        `t${s.tag}`,
        "--format",
        "json",
      ]);
      assert.equal(two.code, 0, two.stderr);
      assert.deepEqual(a.requests, ["GET /containers/json?all=true"]);
      assert.deepEqual(b.requests, ["GET /containers/json?all=true"]);
      const rows = JSON.parse(two.stdout).containers as { name: string; engine: string }[];
      assert.equal(rows.length, 12);
      assert.deepEqual(
        new Set(rows.map((r) => r.engine)),
        new Set([`unix://${a.socketPath}`, `unix://${b.socketPath}`]),
      );
      assert.equal(new Set(rows.map((r) => r.name)).size, 12);
    } finally {
      await a.close();
      await b.close();
      await s.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "engine: an unreachable engine fails the run naming it, unless --allow-partial",
  ignore: noEngine,
  async fn() {
    const good = `unix://${ENGINE_SOCK}`;
    const bad = "unix:///tmp/lbsync-no-such-engine.sock";
    const strict = await lbsync(["explain", "--docker", good, "--docker", bad]);
    assert.equal(strict.code, 1);
    assert.equal(
      strict.stderr,
      `lbsync: error: Cannot list containers on ${bad}: no such socket\n`,
    );
    const partial = await lbsync(["explain", "--docker", good, "--docker", bad, "--allow-partial"]);
    assert.equal(partial.code, 0);
    assert.equal(
      partial.stderr,
      `lbsync: warning: Cannot list containers on ${bad}: no such socket\n`,
    );
    const none = await lbsync(["explain", "--docker", bad, "--allow-partial"]);
    assert.equal(none.code, 1, "every engine failed: nothing to render from");
  },
});

Deno.test("engine errors name the endpoint and the cause", async () => {
  const refused = `tcp://127.0.0.1:${freePort()}`;
  const cases: [string[], Record<string, string>, string][] = [
    [
      ["--docker", "unix:///tmp/lbsync-none.sock"],
      {},
      "Cannot list containers on unix:///tmp/lbsync-none.sock: no such socket",
    ],
    [["--docker", refused], {}, `Cannot list containers on ${refused}: connection refused`],
    [[], { DOCKER_HOST: refused }, `Cannot list containers on ${refused}: connection refused`],
  ];
  for (const [args, env, message] of cases) {
    const r = await run([Deno.execPath(), "run", "-A", `${ROOT}/cli.ts`, "explain", ...args], {
      env: { ...env, NO_COLOR: "1" },
    });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `lbsync: error: ${message}\n`);
  }
});

Deno.test("bad endpoints are configuration errors (exit 2)", async () => {
  for (
    const [url, why] of [
      ["ftp://x", "use unix://, tcp://, http:// or https://"],
      ["unix://relative.sock", "a unix socket needs an absolute path (unix:///run/docker.sock)"],
      ["tcp://host:2375/path", "give only host and port"],
    ]
  ) {
    const r = await lbsync(["explain", "--docker", url]);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      `lbsync: error: Invalid Docker endpoint ${JSON.stringify(url)}: ${why}\n`,
    );
  }
});

Deno.test({
  name: "engine: an API version the engine does not speak is named as such",
  ignore: noEngine,
  async fn() {
    for (const version of ["1.99", "1.5"]) {
      const r = await run([
        Deno.execPath(),
        "run",
        "-A",
        `${ROOT}/cli.ts`,
        "explain",
        "--docker",
        `unix://${ENGINE_SOCK}`,
      ], {
        env: { DOCKER_API_VERSION: version, NO_COLOR: "1" },
      });
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `^lbsync: error: Cannot list containers on unix://${ENGINE_SOCK}: API version not supported: client version ${
            version.replace(".", "\\.")
          } is too (new|old)\\. (Maximum|Minimum) supported API version is 1\\.\\d+`,
        ),
      );
    }
  },
});

Deno.test({
  name: "engine: permission denied on the socket is named (root without capabilities)",
  ignore: noEngine || missing("setpriv"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-perm-" });
    await Deno.chmod(dir, 0o755);
    const proxy = countingProxy(dir, ENGINE_SOCK);
    try {
      await Deno.chown(proxy.socketPath, 65534, 65534);
      await Deno.chmod(proxy.socketPath, 0o600);
      // uid 0 with an empty capability bounding set is held to file permissions
      const r = await run([
        "setpriv",
        "--bounding-set",
        "-all",
        "--inh-caps",
        "-all",
        "--",
        Deno.execPath(),
        "run",
        "-A",
        `${ROOT}/cli.ts`,
        "explain",
        "--docker",
        `unix://${proxy.socketPath}`,
      ], { env: { NO_COLOR: "1" } });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(
        r.stderr,
        `lbsync: error: Cannot list containers on unix://${proxy.socketPath}: permission denied (is the user in the docker group?)\n`,
      );
      assert.deepEqual(proxy.requests, []);
    } finally {
      await proxy.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "engine: TLS against a dockerd with --tlsverify, from DOCKER_CERT_PATH and from --tls-* flags",
  ignore: !Deno.env.get("CI") && missing("dockerd", "openssl"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const started = await run(["bash", `${ROOT}/scripts/engine_tls.sh`, "start"]);
    assert.equal(started.code, 0, started.stderr);
    const [url, certs] = started.stdout.trim().split(" ");
    const https = url.replace("tcp://", "https://");
    const cli = (args: string[], env: Record<string, string> = {}) =>
      run(
        [Deno.execPath(), "run", "-A", `${ROOT}/cli.ts`, "explain", "--format", "json", ...args],
        {
          env: { NO_COLOR: "1", ...env },
        },
      );
    try {
      const byEnv = await cli(["--docker", url], {
        DOCKER_TLS_VERIFY: "1",
        DOCKER_CERT_PATH: certs,
      });
      assert.equal(byEnv.code, 0, byEnv.stderr);
      assert.deepEqual(JSON.parse(byEnv.stdout).containers, []);
      const byFlags = await cli([
        "--docker",
        https,
        "--tls-ca",
        `${certs}/ca.pem`,
        "--tls-cert",
        `${certs}/cert.pem`,
        "--tls-key",
        `${certs}/key.pem`,
      ]);
      assert.equal(byFlags.code, 0, byFlags.stderr);

      const plain = await cli(["--docker", url]);
      assert.equal(plain.code, 1);
      assert.match(
        plain.stderr,
        /: the engine requires TLS: give the endpoint a CA, client certificate and key \(DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH\)/,
      );
      const noClientCert = await cli(["--docker", https, "--tls-ca", `${certs}/ca.pem`]);
      assert.equal(noClientCert.code, 1);
      assert.match(
        noClientCert.stderr,
        new RegExp(`^lbsync: error: Cannot list containers on ${https}: TLS failure: `),
      );
      const unknownCa = await cli(["--docker", https]);
      assert.match(
        unknownCa.stderr,
        /TLS failure: invalid peer certificate: UnknownIssuer\n$/,
      );
      const missingFile = await cli(["--docker", url], {
        DOCKER_TLS_VERIFY: "1",
        DOCKER_CERT_PATH: "/nonexistent",
      });
      assert.equal(missingFile.code, 2);
      assert.equal(
        missingFile.stderr,
        `lbsync: error: Cannot read TLS ca /nonexistent/ca.pem for ${url}: no such file\n`,
      );
    } finally {
      await run(["bash", `${ROOT}/scripts/engine_tls.sh`, "stop"]);
    }
  },
});

Deno.test("no npm package stands between lbsync and an engine", async () => {
  // the Engine API client is lbsync's own, on Deno's sockets: the module graph of the CLI holds
  // no Docker client package (dockerode and docker-modem once cost 250 ms and 40 MB per start)
  const info = await run([Deno.execPath(), "info", "--json", `${ROOT}/cli.ts`]);
  assert.equal(info.code, 0, info.stderr);
  const graph = JSON.parse(info.stdout) as { npmPackages?: Record<string, unknown> };
  const packages = Object.keys(graph.npmPackages ?? {});
  assert.deepEqual(packages.filter((p) => /docker|ssh2|grpc|protobuf|cpu-features/.test(p)), []);
});
