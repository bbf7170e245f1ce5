/**
 * `--store` over TLS with a client certificate and etcd's user and password auth, on a real
 * etcd member; and `lbsync store import` / `export` between a config file and the store.
 */
import assert from "node:assert/strict";
import { lbsync } from "../support/cli.ts";
import { cleanUp, missing } from "../support/tools.ts";
import { type EtcdCluster, makePki, startEtcdCluster } from "../support/etcd_cluster.ts";

Deno.test({
  name: "--store over TLS with a client certificate; store import and export round-trip",
  ignore: missing("etcd", "etcdctl", "openssl"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-store-tls-" });
    let cluster: EtcdCluster | undefined;
    try {
      const pki = await makePki(dir);
      cluster = await startEtcdCluster(`${dir}/etcd`, 1, pki);
      const url = cluster.url("/lbsync/tls");
      const tls = [
        "--store-ca",
        pki.ca,
        "--store-cert",
        pki.clientCert,
        "--store-key",
        pki.clientKey,
      ];
      const services = [
        { name: "api", servers: [{ host: "10.0.0.3", port: 81 }] },
        { name: "web", host: "web.test", servers: [{ host: "10.0.0.4", port: 82, weight: 2 }] },
      ];
      await Deno.writeTextFile(`${dir}/lbsync.json`, JSON.stringify({ listen: 8080, services }));

      const imported = await lbsync([
        "store",
        "import",
        `${dir}/lbsync.json`,
        "--store",
        url,
        ...tls,
      ]);
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stderr, /imported 2 services into etcds:\/\//);
      const exported = await lbsync(["store", "export", "--store", url, ...tls]);
      assert.equal(exported.code, 0, exported.stderr);
      assert.deepEqual(JSON.parse(exported.stdout), { services });

      const render = await lbsync([
        "render",
        "--from-file",
        "-",
        "--store",
        url,
        ...tls,
        "-t",
        "nginx",
        "-o",
        "-",
      ], "[]");
      assert.equal(render.code, 0, render.stderr);
      assert.match(render.stdout, /server 10\.0\.0\.4:82 weight=2/);
      assert.match(render.stdout, /server 10\.0\.0\.3:81/);

      const refused: [string[], RegExp][] = [
        // no client certificate: etcd ends the handshake, which the client may see while it is
        // still writing (a broken pipe)
        [["--store-ca", pki.ca], /TLS failure|certificate|connection (reset|closed)|broken pipe/i],
        [[], /TLS failure: .*UnknownIssuer/i], // the CA unknown
      ];
      for (const [flags, message] of refused) {
        const r = await lbsync(["store", "export", "--store", url, ...flags]);
        assert.equal(r.code, 1, `${flags.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, message, `${flags.join(" ")}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      }
    } finally {
      await cleanUp(() => cluster?.stop(), () => Deno.remove(dir, { recursive: true }));
    }
  },
});

Deno.test({
  name: "--store with etcd's user and password auth",
  ignore: missing("etcd", "etcdctl"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-store-auth-" });
    let cluster: EtcdCluster | undefined;
    try {
      cluster = await startEtcdCluster(`${dir}/etcd`, 1);
      await cluster.ctl("user", "add", "root:root-pw", "--interactive=false");
      await cluster.ctl("user", "grant-role", "root", "root");
      await cluster.ctl("auth", "enable");
      await cluster.ctl(
        "--user",
        "root:root-pw",
        "put",
        "/lbsync/auth/web",
        JSON.stringify({ servers: [{ host: "10.0.0.5", port: 85 }] }),
      );
      await Deno.writeTextFile(`${dir}/password`, "root-pw\n", { mode: 0o600 });
      await Deno.writeTextFile(`${dir}/wrong`, "nope\n", { mode: 0o600 });
      const url = cluster.url("/lbsync/auth");
      const render = (flags: string[]) =>
        lbsync(
          ["render", "--from-file", "-", "--store", url, ...flags, "-t", "nginx", "-o", "-"],
          "[]",
        );
      const ok = await render(["--store-user", "root", "--store-password-file", `${dir}/password`]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /server 10\.0\.0\.5:85/);

      const refused: [string[], RegExp][] = [
        [[], /user name is empty/],
        [
          ["--store-user", "root", "--store-password-file", `${dir}/wrong`],
          /cannot authenticate as root: .*authentication failed/,
        ],
        [["--store-user", "root"], /--store-user and --store-password-file go together/],
      ];
      for (const [flags, message] of refused) {
        const r = await render(flags);
        assert.notEqual(r.code, 0, `${flags.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, message, `${flags.join(" ")}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      }
    } finally {
      await cleanUp(() => cluster?.stop(), () => Deno.remove(dir, { recursive: true }));
    }
  },
});

Deno.test("lbsync store: usage errors exit 2, a bad config file is refused before anything is written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-store-usage-" });
  try {
    await Deno.writeTextFile(
      `${dir}/bad.json`,
      JSON.stringify({ services: [{ name: "x", servers: [{ host: "a;b", port: 1 }] }] }),
    );
    const cases: [string[], RegExp][] = [
      [["store"], /Use: lbsync store import FILE/],
      [["store", "export"], /needs --store URL/],
      [["store", "import", "--store", "etcd://127.0.0.1:9/x"], /Use:/],
      [
        ["store", "export", "--store", "http://x/y"],
        /Invalid --store http:\/\/x\/y: expected etcd:\/\//,
      ],
      [
        ["store", "import", `${dir}/bad.json`, "--store", "etcd://127.0.0.1:9/x"],
        /Invalid config .*bad\.json: \$\.services\[0\]\.servers\[0\]\.host/,
      ],
    ];
    const help = await lbsync(["store", "--help"]);
    assert.deepEqual([help.code, help.stdout.split("\n")[0]], [
      0,
      "lbsync store import FILE --store URL   the services of config FILE into the store",
    ]);
    for (const [args, message] of cases) {
      const r = await lbsync(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
