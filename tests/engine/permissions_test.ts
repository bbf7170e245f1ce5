/**
 * docs/permissions.md's table, tried: each row's use runs as `deno run` with exactly the
 * flags the table gives (those of the rows it builds on, plus its own), and must work.
 */
import assert from "node:assert/strict";
import { freePort, startHaproxy, startManagedNginx } from "../support/balancers.ts";
import { ENGINE_SOCK, engineMissing } from "../support/engine.ts";
import { hostNetworkSummaries, ROOT } from "../support/fixtures.ts";
import { IN_CI, missing, run } from "../support/tools.ts";
import { query, udpAsk } from "../support/dns_client.ts";

const PERMISSIONS = await Deno.readTextFile(`${ROOT}/docs/permissions.md`);
const EXAMPLE = `${ROOT}/examples/containers.json`;
const CLI = `${ROOT}/cli.ts`;

/** The flags cell of the permissions row whose use cell starts with `use`. */
function flagsOf(use: string): string {
  const table = PERMISSIONS;
  const row = table.split("\n").find((l) => l.startsWith(`| ${use}`));
  assert.ok(row, `no permissions row for ${use}`);
  return row.split("|")[2].trim();
}

/** The flags written in backticks in a cell, placeholders filled in. */
function flags(cell: string, fill: Record<string, string> = {}): string[] {
  const out: string[] = [];
  for (const m of cell.matchAll(/`(--allow-[^`]+)`/g)) {
    const filled = Object.entries(fill).reduce((f, [k, v]) => f.replaceAll(k, v), m[1]);
    out.push(...filled.split(" "));
  }
  return out;
}

/**
 * Rows "add" flags to the ones before: `--allow-read` and `--allow-read=S` together mean
 * all reads; two lists join. (Given twice, Deno takes only the last.)
 */
function merge(permissions: string[]): string[] {
  const byName = new Map<string, string[] | "all">();
  for (const p of permissions) {
    const [name, list] = p.split("=");
    const known = byName.get(name);
    if (list === undefined || known === "all") byName.set(name, "all");
    else byName.set(name, [...(known ?? []), ...list.split(",")]);
  }
  return [...byName].map(([name, list]) =>
    list === "all" ? name : `${name}=${[...new Set(list)].join(",")}`
  );
}

function deno(permissions: string[], args: string[]) {
  return run([Deno.execPath(), "run", ...merge(permissions), CLI, ...args], {
    env: { NO_COLOR: "1" },
  });
}

const FILES = "`render` / `explain` from files";
const WRITING = "`render` writing outputs";
const RELOAD = "`--reload-cmd` (confirming";
const LOCAL = "a local engine";
const REMOTE = "a remote engine";
const COMMANDS = "`--check-cmd`, `--reload-cmd`";
const SOCKET = "`--haproxy-socket S`";
const DNS = "`--nginx-dns`";
const ADMIN = "`--admin-listen`";

Deno.test("permissions: files in, printing out", async () => {
  const read = flags(flagsOf(FILES));
  assert.deepEqual(read, ["--allow-read"]);
  const render = await deno(read, ["render", "--from-file", EXAMPLE, "-t", "nginx", "-o", "-"]);
  assert.equal(render.code, 0, render.stderr);
  const explain = await deno(read, ["explain", "--from-file", EXAMPLE]);
  assert.equal(explain.code, 0, explain.stderr);
});

Deno.test("permissions: writing outputs, only to their directories", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-perm-" });
  try {
    const permissions = flags(flagsOf(WRITING), { "<output dirs>": dir });
    const r = await deno(permissions, [
      "render",
      "--from-file",
      EXAMPLE,
      "-t",
      "nginx",
      "-o",
      `${dir}/x.conf`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(await Deno.readTextFile(`${dir}/x.conf`), /upstream lbsync_web /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "permissions: check and reload commands, confirming the reload (real nginx)",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-perm-reload-" });
    const out = `${dir}/lbsync.conf`;
    await Deno.writeTextFile(out, "");
    const nginx = await startManagedNginx(dir, out);
    const permissions = [
      ...flags(flagsOf(WRITING), { "<output dirs>": dir }),
      ...flags(flagsOf(COMMANDS)),
      ...flags(flagsOf(RELOAD)),
    ];
    const listen = String(freePort());
    const args = [
      "render",
      "--from-file",
      EXAMPLE,
      "--listen",
      listen,
      "--listen-address",
      "127.0.0.1",
    ];
    try {
      const first = await deno(permissions, [...args, ...nginx.targetArgs]);
      assert.equal(first.code, 0, first.stderr);
      // the generation could be read: a reload that reloads nothing is caught
      const noReload = nginx.targetArgs.map((a) => a.endsWith("-s reload") ? "true" : a);
      const stale = await deno(permissions, [
        ...args,
        "--name-prefix",
        "x_",
        ...noReload,
        "--confirm-timeout",
        "2s",
      ]);
      assert.equal(stale.code, 1, stale.stderr);
      assert.match(stale.stderr, /Reload did not take/);
    } finally {
      await nginx.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "permissions: a local engine through its socket",
  ignore: await engineMissing(),
  async fn() {
    const permissions = flags(flagsOf(LOCAL), { S: ENGINE_SOCK });
    const r = await deno(permissions, ["explain", "--docker", `unix://${ENGINE_SOCK}`]);
    assert.equal(r.code, 0, r.stderr);
  },
});

Deno.test({
  name: "permissions: a remote engine over TLS",
  ignore: !IN_CI && missing("dockerd", "openssl"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const started = await run(["bash", `${ROOT}/scripts/engine_tls.sh`, "start"]);
    assert.equal(started.code, 0, started.stderr);
    const [url, certs] = started.stdout.trim().split(" ");
    try {
      const hostPort = url.replace("tcp://", "");
      const permissions = flags(flagsOf(REMOTE), { "HOST:PORT": hostPort }).map((f) =>
        f === "--allow-read" ? `--allow-read=${certs}` : f
      );
      assert.ok(permissions.includes(`--allow-net=${hostPort}`), permissions.join(" "));
      const r = await deno(permissions, [
        "explain",
        "--docker",
        url.replace("tcp://", "https://"),
        "--tls-ca",
        `${certs}/ca.pem`,
        "--tls-cert",
        `${certs}/cert.pem`,
        "--tls-key",
        `${certs}/key.pem`,
      ]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await run(["bash", `${ROOT}/scripts/engine_tls.sh`, "stop"]);
    }
  },
});

Deno.test({
  name: "permissions: the HAProxy runtime socket (real HAProxy, servers changed without a reload)",
  ignore: missing("haproxy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-perm-sock-" });
    const socket = `${dir}/admin.sock`;
    const out = `${dir}/haproxy.cfg`;
    const listen = String(freePort());
    const json = hostNetworkSummaries;
    const permissions = [
      ...flags(flagsOf(WRITING), { "<output dirs>": dir }),
      ...flags(flagsOf(SOCKET), { S: socket }),
    ];
    const args = [
      "render",
      "--from-file",
      `${dir}/c.json`,
      "--listen",
      listen,
      "--listen-address",
      "127.0.0.1",
      "-t",
      "haproxy",
      "-o",
      out,
      "--haproxy-socket",
      socket,
      "-v",
    ];
    await Deno.writeTextFile(`${dir}/c.json`, json([freePort()]));
    const first = await deno(permissions, args);
    assert.equal(first.code, 0, first.stderr);
    const haproxy = await startHaproxy(await Deno.readTextFile(out));
    try {
      // HAProxy runs the file from its own directory: point lbsync at that copy
      const live = `${haproxy.dir}/haproxy.cfg`;
      await Deno.writeTextFile(`${dir}/c.json`, json([freePort(), freePort()]));
      const perms = [...permissions, `--allow-write=${haproxy.dir}`, `--allow-read=${haproxy.dir}`];
      const second = await deno(perms, args.map((a) => a === out ? live : a));
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, /through the HAProxy runtime API/);
    } finally {
      await haproxy.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Starts `lbsync watch` with `permissions`, waits for `ready` in its log, runs `use`, stops. */
async function watchWith(
  permissions: string[],
  args: string[],
  ready: RegExp,
  use: (log: string) => Promise<void>,
): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...merge(permissions), CLI, "watch", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let log = "";
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) log += chunk;
  })();
  child.stdout.cancel();
  try {
    const end = Date.now() + 15_000;
    while (!ready.test(log) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.match(log, ready, log);
    await use(log);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await reading;
  }
}

Deno.test({
  name: "permissions: the DNS server for nginx, with exactly its row's grant",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-perm-dns-" });
    const dns = freePort();
    const permissions = [
      ...flags(flagsOf(WRITING), { "<output dirs>": dir }),
      ...flags(flagsOf(DNS), { PORT: String(dns) }),
    ];
    try {
      await watchWith(
        permissions,
        [
          "--from-file",
          EXAMPLE,
          "--nginx-dns",
          String(dns),
          "-t",
          "nginx",
          "-o",
          `${dir}/x.conf`,
        ],
        /applied|no change/,
        async (log) => {
          assert.match(log, /DNS for nginx on udp port \d+ \(and tcp\)/);
          const reply = await udpAsk(dns, query("web.lbsync.internal", 1, 0x4242));
          assert.equal((reply[0] << 8) | reply[1], 0x4242, "the answer to this question");
          assert.equal(reply[2] & 0x80, 0x80, "a response");
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "permissions: the admin API of a watch",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-perm-admin-" });
    const admin = freePort();
    await Deno.writeTextFile(`${dir}/token`, "0123456789abcdef-token\n", { mode: 0o600 });
    await Deno.writeTextFile(`${dir}/lbsync.json`, JSON.stringify({ services: [] }));
    const permissions = [
      ...flags(flagsOf(WRITING), { "<output dirs>": dir }),
      ...flags(flagsOf(ADMIN), { PORT: String(admin) }),
      `--allow-write=${dir}`,
    ];
    try {
      await watchWith(
        permissions,
        [
          "--config",
          `${dir}/lbsync.json`,
          "--from-file",
          EXAMPLE,
          "--admin-listen",
          String(admin),
          "--admin-token-file",
          `${dir}/token`,
          "-t",
          "nginx",
          "-o",
          `${dir}/x.conf`,
        ],
        /applied|no change/,
        async () => {
          const r = await fetch(`http://127.0.0.1:${admin}/services`, {
            headers: { authorization: "Bearer 0123456789abcdef-token" },
          });
          assert.equal(r.status, 200, await r.text());
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("permissions: every row of docs/permissions.md's table is tried above", () => {
  const table = PERMISSIONS;
  const uses = table.split("\n").filter((l) => /^\| [`a]/.test(l)).map((l) =>
    l.split("|")[1].trim()
  );
  const tried = [FILES, WRITING, RELOAD, LOCAL, REMOTE, COMMANDS, SOCKET, DNS, ADMIN];
  assert.deepEqual(uses.filter((u) => !tried.some((t) => u.startsWith(t))), []);
  assert.equal(uses.length, tried.length);
});
