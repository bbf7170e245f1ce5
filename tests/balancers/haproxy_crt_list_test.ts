/**
 * More certificates than an HAProxy `bind` line can name (64 words): they go to a crt-list
 * file beside the output, named by its content's hash; real `haproxy -c` takes the config and
 * real HAProxy serves each host its own certificate. Fewer again: back on the line, the list
 * removed.
 */
import assert from "node:assert/strict";
import { freePort, startHaproxy } from "../support/balancers.ts";
import { containerSummaries, ROOT } from "../support/fixtures.ts";
import { missing, requireTool, run } from "../support/tools.ts";

const COUNT = 40;

async function certificates(dir: string, count: number): Promise<void> {
  const openssl = requireTool("openssl");
  for (let i = 0; i < count; i++) {
    const name = `h${i}.test`;
    const r = await run([
      openssl,
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      `subjectAltName=DNS:${name}`,
      "-keyout",
      `${dir}/${name}.key`,
      "-out",
      `${dir}/${name}.crt`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    await Deno.chmod(`${dir}/${name}.key`, 0o600);
  }
}

/** The subject CN of the certificate served for SNI `name` on 127.0.0.1:`port`. */
async function servedCertificate(port: number, name: string): Promise<string> {
  const r = await run([
    "sh",
    "-c",
    `openssl s_client -connect 127.0.0.1:${port} -servername ${name} </dev/null 2>/dev/null | openssl x509 -noout -subject`,
  ]);
  return r.stdout.trim().replace(/^subject=\s*CN\s*=\s*/, "");
}

Deno.test({
  name: "haproxy: 40 certificates go to a crt-list that real HAProxy takes and serves",
  ignore: missing("haproxy", "openssl"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-crtlist-" });
    const certs = `${dir}/certs`;
    await Deno.mkdir(certs);
    await certificates(certs, COUNT);
    const source = `${dir}/containers.json`;
    const write = (n: number) =>
      Deno.writeTextFile(
        source,
        containerSummaries(Array.from({ length: n }, (_, i) => ({
          name: `web-${String(i).padStart(2, "0")}`,
          ip: "127.0.0.1",
          labels: {
            "lbsync.service": `web${i}`,
            "lbsync.host": `h${i}.test`,
            "lbsync.port": "9",
            "lbsync.https": "noredirect",
          },
        }))),
      );
    const [listen, https] = [freePort(), freePort()];
    const out = `${dir}/haproxy.cfg`;
    const render = () =>
      run([
        Deno.execPath(),
        "run",
        "-A",
        `${ROOT}/cli.ts`,
        "render",
        "-q",
        "--from-file",
        source,
        "--cert-dir",
        certs,
        "--listen",
        String(listen),
        "--https-listen",
        String(https),
        "--listen-address",
        "127.0.0.1",
        "-t",
        "haproxy",
        "-o",
        out,
        "--check-cmd",
        "haproxy -c -f {}",
      ]);
    const lists = () =>
      [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.includes(".crt-list."));
    try {
      await write(COUNT);
      const first = await render();
      assert.equal(first.code, 0, first.stderr);
      const cfg = await Deno.readTextFile(out);
      const [list] = lists();
      assert.ok(list, "a crt-list beside the output");
      assert.match(cfg, new RegExp(` crt-list ${dir}/${list.replaceAll(".", "\\.")}\\b`));
      assert.doesNotMatch(cfg, / crt \//);
      const entries = (await Deno.readTextFile(`${dir}/${list}`)).split("\n")
        .filter((line) => line.startsWith("/"));
      assert.equal(entries.length, COUNT);
      const haproxy = await startHaproxy(cfg);
      try {
        for (const i of [0, 17, COUNT - 1]) {
          assert.equal(await servedCertificate(https, `h${i}.test`), `h${i}.test`);
        }
      } finally {
        await haproxy.stop();
      }
      // ten hosts: the certificates fit the bind line again, and the list goes
      await write(10);
      const second = await render();
      assert.equal(second.code, 0, second.stderr);
      assert.match(await Deno.readTextFile(out), / crt \/.*h9\.test\.crt/);
      assert.deepEqual(lists(), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
