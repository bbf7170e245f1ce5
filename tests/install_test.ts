/** `deno task install` makes an `lbsync` command; `deno uninstall` removes it. */
import assert from "node:assert/strict";
import meta from "../deno.json" with { type: "json" };

const ROOT = new URL("..", import.meta.url).pathname;

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, cwd: ROOT, env: { NO_COLOR: "1", ...env } })
    .output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("deno task install puts an lbsync command in DENO_INSTALL_ROOT/bin, with narrow permissions", async () => {
  const root = await Deno.makeTempDir({ prefix: "lbsync-install-" });
  try {
    const installed = await run(Deno.execPath(), ["task", "install"], { DENO_INSTALL_ROOT: root });
    assert.equal(installed.code, 0, installed.stderr);
    const script = await Deno.readTextFile(`${root}/bin/lbsync`);
    assert.match(script, /--allow-env=DOCKER_HOST,DOCKER_TLS_VERIFY,DOCKER_CERT_PATH/);
    assert.doesNotMatch(script, /--allow-all|\s-A\s/);
    const version = await run(`${root}/bin/lbsync`, ["--version"]);
    assert.equal(version.stdout, `lbsync ${meta.version}\n`);
    const removed = await run(Deno.execPath(), ["uninstall", "--global", "--root", root, "lbsync"]);
    assert.equal(removed.code, 0, removed.stderr);
    await assert.rejects(Deno.stat(`${root}/bin/lbsync`));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
