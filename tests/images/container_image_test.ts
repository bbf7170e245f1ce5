/**
 * The images of contrib/, built and run for real against the test engine, with HTTP traffic:
 * contrib/Dockerfile (lbsync alone), contrib/nginx-proxy/Dockerfile (nginx and lbsync in place
 * of nginx-proxy's image) and contrib/docker-compose.yml brought up by docker-compose.
 *
 * No registry can be pulled from, so the Dockerfiles' BASE is made here: Debian minbase with
 * ca-certificates (mmdebstrap) and the deno binary running this test. It is kept in the engine as
 * lbsync-test/deno-base:<deno version>-<recipe hash>, so later runs on the same engine skip
 * mmdebstrap (`docker rmi` removes it; a new recipe or Deno removes the older tags). The build
 * cannot reach the npm registry either: its context carries a Deno cache, as contrib/Dockerfile
 * describes. Everything else the test makes (images, containers, networks, the volume, the
 * context) is removed.
 */
import assert from "node:assert/strict";
import { DEFAULTS } from "../../lib/core/defaults.ts";
import { answerSet, freePort, httpGet } from "../support/balancers.ts";
import {
  docker,
  DOCKER_CLI,
  dockerOk,
  ENGINE_SOCK,
  engineMissing,
  Scenario,
  TEST_IMAGE,
} from "../support/engine.ts";
import { ROOT } from "../support/fixtures.ts";
import { missing, requireTool, run } from "../support/tools.ts";

const BASE_REPOSITORY = "lbsync-test/deno-base";

/** mmdebstrap's arguments for the base (the deno binary is copied in by a hook). */
const BASE_RECIPE = [
  "--variant=minbase",
  "--include=ca-certificates",
  // as Debian's slim images: no manuals, documentation (copyrights aside) or translations
  "--dpkgopt=path-exclude=/usr/share/man/*",
  "--dpkgopt=path-exclude=/usr/share/doc/*",
  "--dpkgopt=path-include=/usr/share/doc/*/copyright",
  "--dpkgopt=path-exclude=/usr/share/locale/*",
];
const SUITE = "bookworm";

/**
 * How long a change may take to be served: lbsync starting in its container (a few hundred ms;
 * 5 s allows for a loaded machine), one batch (closed at the heartbeat's max at the latest) and
 * the reload's confirmation (bounded by the confirm timeout).
 */
const APPLY_BOUND_MS = 5_000 + DEFAULTS.heartbeat.maxMs + DEFAULTS.confirmTimeoutMs;

/**
 * How long `docker stop` of the nginx-proxy image may take: lbsync gives the pass in progress
 * 3 s after SIGTERM (README), nginx closes idle connections at once on SIGQUIT, and 2 s for the
 * engine's own work. docker's 10 s kill would come later.
 */
const STOP_BOUND_MS = 3_000 + 2_000;

/**
 * Requests a round takes to reach every server of a service: nginx rotates its servers in each
 * worker, one worker per CPU (`worker_processes auto`), so one more request than workers gives
 * some worker two of them.
 */
const ROUND = navigator.hardwareConcurrency + 1;

const ignore = (await engineMissing()) || missing("mmdebstrap");

Deno.test({
  name: "contrib images: lbsync, nginx-proxy's drop-in and the compose file, on a Debian base",
  ignore,
  async fn(t) {
    const started = Date.now();
    const tag = crypto.randomUUID().slice(0, 8);
    const images = {
      lbsync: `lbsync-test/lbsync:${tag}`,
      nginxProxy: `lbsync-test/lbsync-nginx-proxy:${tag}`,
      nginx: `lbsync-test/nginx:${tag}`,
    };
    const context = await Deno.makeTempDir({ prefix: "lbsync-image-context-" });
    try {
      const base = await baseImage();
      const baseMs = Date.now() - started;
      const version = await writeContext(context);
      await build(context, "contrib/Dockerfile", base, images.lbsync);
      await build(context, "contrib/nginx-proxy/Dockerfile", base, images.nginxProxy);
      // the first stages of the build above (cached): Debian's nginx, for the compose file
      await build(context, "contrib/nginx-proxy/Dockerfile", base, images.nginx, "nginx");
      const sizes = await Promise.all([base, ...Object.values(images)].map(imageSize));
      console.log(
        `container images (MB): base ${sizes[0]}, lbsync ${sizes[1]}, nginx-proxy ${sizes[2]}, ` +
          `nginx ${sizes[3]}; base ready in ${baseMs} ms, all built in ${Date.now() - started} ms`,
      );

      await t.step(
        "contrib/Dockerfile: the command starts offline and reads the socket",
        () => lbsyncImage(images.lbsync, version),
      );
      await t.step(
        "contrib/nginx-proxy/Dockerfile: in place of nginx-proxy's image",
        () => nginxProxyImage(images.nginxProxy),
      );
      await t.step({
        name:
          "contrib/docker-compose.yml: docker-compose up serves both replicas, down removes all",
        ignore: missing("docker-compose"),
        fn: () => compose(images),
      });
    } finally {
      await docker(["rmi", ...Object.values(images)]);
      await Deno.remove(context, { recursive: true });
      const left = await dockerOk(["images", "-q", "--filter", `reference=lbsync-test/*:${tag}`]);
      assert.equal(left, "", "the images built are removed");
      console.log(`container image test: ${Date.now() - started} ms`);
    }
  },
});

/** The cached base image, made first when the engine lacks it; its name. */
async function baseImage(): Promise<string> {
  const recipe = JSON.stringify([...BASE_RECIPE, SUITE]);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(recipe));
  const hex = (b: number) => b.toString(16).padStart(2, "0");
  const hash = Array.from(new Uint8Array(digest).slice(0, 4), hex).join("");
  const name = `${BASE_REPOSITORY}:${Deno.version.deno}-${hash}`;
  if ((await docker(["image", "inspect", name])).code === 0) return name;

  // the executable running this test: npm's `deno` command may be a JavaScript wrapper
  const hook = `--customize-hook=cp '${Deno.execPath()}' "$1/usr/local/bin/deno"`;
  const debootstrap = new Deno.Command(requireTool("mmdebstrap"), {
    args: ["--quiet", ...BASE_RECIPE, hook, SUITE, "-"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const importer = new Deno.Command(DOCKER_CLI, {
    args: ["-H", `unix://${ENGINE_SOCK}`, "import", "-", name],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const text = (s: ReadableStream<Uint8Array>) => new Response(s).text();
  const [, made, imported, madeErr, importErr] = await Promise.all([
    debootstrap.stdout.pipeTo(importer.stdin),
    debootstrap.status,
    importer.status,
    text(debootstrap.stderr),
    text(importer.stderr),
  ]);
  assert.ok(made.success, `mmdebstrap failed: ${madeErr}`);
  assert.ok(imported.success, `docker import failed: ${importErr}`);

  const older =
    (await dockerOk(["images", "--format", "{{.Repository}}:{{.Tag}}", BASE_REPOSITORY]))
      .split("\n").filter((n) => n && n !== name);
  if (older.length) await docker(["rmi", ...older]);
  return name;
}

/**
 * A build context as the repository root gives it (without .git and outputs), with the Deno
 * cache a build without the npm registry needs, made as contrib/Dockerfile says. Returns the
 * version of lbsync in it.
 */
async function writeContext(dir: string): Promise<string> {
  const entries = [...Deno.readDirSync(ROOT)].map((e) => e.name)
    .filter((n) => ![".git", "dist", "node_modules"].includes(n));
  const copied = await run(["cp", "-a", ...entries.map((n) => `${ROOT}/${n}`), dir]);
  assert.equal(copied.code, 0, copied.stderr);
  const env = { DENO_DIR: `${dir}/dist/deno-dir` };
  for (const args of [["cache", "--frozen", "main.ts"], ["task", "bundle"]]) {
    const r = await run([Deno.execPath(), ...args], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
  }
  return JSON.parse(await Deno.readTextFile(`${dir}/deno.json`)).version;
}

async function build(
  context: string,
  dockerfile: string,
  base: string,
  name: string,
  target?: string,
): Promise<void> {
  await dockerOk([
    "build",
    "-q",
    "-f",
    `${context}/${dockerfile}`,
    "--build-arg",
    `BASE=${base}`,
    ...(target ? ["--target", target] : []),
    "-t",
    name,
    context,
  ], { DOCKER_BUILDKIT: "1" });
}

async function imageSize(name: string): Promise<number> {
  return Math.round(Number(await dockerOk(["image", "inspect", "-f", "{{.Size}}", name])) / 1e6);
}

async function lbsyncImage(image: string, version: string): Promise<void> {
  // no network at all: whatever lbsync loads is in the image
  const offline = ["run", "--rm", "--network", "none"];
  assert.equal(await dockerOk([...offline, image, "--version"]), `lbsync ${version}`);
  const explain = await dockerOk([
    ...offline,
    "-v",
    `${ENGINE_SOCK}:/var/run/docker.sock:ro`,
    image,
    "explain",
    "--format",
    "json",
  ]);
  assert.ok(Array.isArray(JSON.parse(explain).containers));
  // acme-client, which --acme-directory loads when first needed, in the versions of the lock
  const acme = await dockerOk([
    ...offline,
    "--entrypoint",
    "deno",
    image,
    "eval",
    "--cached-only",
    "--lock=/opt/lbsync/deno.lock",
    'const m = await import("npm:acme-client@5.4.0"); console.log(typeof m.Client)',
  ]);
  assert.equal(acme, "function");
}

/** Polls until `ROUND` requests for `host` are answered by exactly `ids`. */
async function servedBy(port: number, host: string, ids: string[]): Promise<void> {
  const want = [...ids].sort();
  let seen: string[] = [];
  const end = Date.now() + APPLY_BOUND_MS;
  while (Date.now() < end) {
    seen = [...await answerSet(port, "/", host, ROUND, 2000)].sort();
    if (JSON.stringify(seen) === JSON.stringify(want)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(seen, want, `${host} within ${APPLY_BOUND_MS} ms`);
}

async function nginxProxyImage(image: string): Promise<void> {
  const s = new Scenario();
  try {
    const net = await s.network("np");
    const port = freePort();
    const vhost = `vh-${s.tag}.test`;
    const labelled = `lab-${s.tag}.test`;
    // nginx-proxy's backend, there before the proxy: VIRTUAL_HOST, its only exposed port
    const vh = await s.run("np-vh", ["--network", net, "-e", `VIRTUAL_HOST=${vhost}`]);
    const proxy = s.name("np-proxy");
    s.adopt([proxy]);
    await dockerOk([
      "run",
      "-d",
      "--name",
      proxy,
      "--label",
      `lbsync-test=${s.tag}`,
      "--network",
      net,
      "-p",
      `127.0.0.1:${port}:80`,
      "-v",
      `${ENGINE_SOCK}:/tmp/docker.sock:ro`,
      "-e",
      `DEFAULT_HOST=${vhost}`,
      // nginx-proxy's, with no lbsync setting: named in a warning
      "-e",
      "SSL_POLICY=Mozilla-Modern",
      image,
    ]);
    await servedBy(port, vhost, [vh.id]);
    // a backend on two networks, the first by name one the proxy is not on: reached on the shared one
    const other = await s.network("a-other");
    const twoHost = `two-${s.tag}.test`;
    const two = await s.run("np-two", ["--network", other, "-e", `VIRTUAL_HOST=${twoHost}`]);
    await dockerOk(["network", "connect", net, two.name]);
    await servedBy(port, twoHost, [two.id]);
    // lbsync's labels, on containers started while it watches
    const labels = (n: string) => [
      "--network",
      n,
      "--label",
      `lbsync.service=lab-${s.tag}`,
      "--label",
      `lbsync.host=${labelled}`,
      "--label",
      "lbsync.port=8080",
    ];
    const lab1 = await s.run("np-lab1", labels(net));
    const lab2 = await s.run("np-lab2", labels(net));
    await servedBy(port, labelled, [lab1.id, lab2.id]);
    // DEFAULT_HOST, and no Debian default site claiming the requests of unknown hosts
    assert.equal((await httpGet(port, "/", `unknown-${s.tag}.test`)).body.trim(), vh.id);
    assert.equal(await dockerOk(["exec", proxy, "ls", "-A", "/etc/nginx/sites-enabled"]), "");
    // nginx-proxy's Diffie-Hellman setup: RFC 7919's 4096-bit group by default, in the config
    await dockerOk([
      "exec",
      proxy,
      "cmp",
      "/app/dhparam/ffdhe4096.pem",
      "/etc/nginx/dhparam/dhparam.pem",
    ]);
    assert.match(
      await dockerOk(["exec", proxy, "cat", "/etc/nginx/conf.d/default.conf"]),
      /^ssl_dhparam \/etc\/nginx\/dhparam\/dhparam\.pem; # version [0-9a-f]+$/m,
    );
    // and a group it does not know stops the container before anything starts
    const refused = await docker([
      "run",
      "--rm",
      "--label",
      `lbsync-test=${s.tag}`,
      "-e",
      "DHPARAM_BITS=1024",
      image,
    ]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /Unsupported DHPARAM_BITS size: 1024\. Use: 2048, 3072, or 4096/);

    const stopping = Date.now();
    await dockerOk(["stop", "-t", "10", proxy]);
    const stopMs = Date.now() - stopping;
    assert.ok(stopMs < STOP_BOUND_MS, `docker stop took ${stopMs} ms`);
    assert.equal(await dockerOk(["inspect", "-f", "{{.State.ExitCode}}", proxy]), "0");
    const logs = await docker(["logs", proxy]);
    assert.match(logs.stderr, /warning: SSL_POLICY is not read/);
    assert.match(logs.stderr, /lbsync: stopped/);
  } finally {
    await s.cleanup();
  }
}

async function compose(images: { lbsync: string; nginx: string }): Promise<void> {
  const tag = crypto.randomUUID().slice(0, 8);
  const project = `lbsynctest${tag}`;
  const network = `lbsync-compose-${tag}`;
  const port = freePort();
  const host = `app-${tag}.test`;
  const env = {
    DOCKER_HOST: `unix://${ENGINE_SOCK}`,
    NGINX_IMAGE: images.nginx,
    LBSYNC_IMAGE: images.lbsync,
    APP_IMAGE: TEST_IMAGE,
    APP_PORT: "8080",
    HTTP_PUBLISH: `127.0.0.1:${port}`,
    DOCKER_SOCK: ENGINE_SOCK,
    NGINX_CONTAINER: `lbsync-compose-nginx-${tag}`,
    LBSYNC_NETWORK: network,
    APP_HOST: host,
  };
  const file = `${ROOT}/contrib/docker-compose.yml`;
  const dc = (...args: string[]) =>
    run([requireTool("docker-compose"), "-f", file, "-p", project, ...args], { env });
  const ofProject = ["--filter", `label=com.docker.compose.project=${project}`];
  try {
    const up = await dc("up", "-d", "--no-build");
    assert.equal(up.code, 0, up.stderr);
    const apps = (await dockerOk([
      "ps",
      "-q",
      ...ofProject,
      "--filter",
      "label=com.docker.compose.service=app",
    ])).split("\n");
    assert.equal(apps.length, 2, "deploy.replicas: 2");
    await servedBy(port, host, apps);
  } finally {
    const down = await dc("down", "-v", "--remove-orphans");
    assert.equal(down.code, 0, down.stderr);
  }
  assert.equal(await dockerOk(["ps", "-aq", ...ofProject]), "");
  assert.equal(await dockerOk(["volume", "ls", "-q", ...ofProject]), "");
  assert.notEqual(
    (await docker(["network", "inspect", network])).code,
    0,
    "the network is removed",
  );
}
