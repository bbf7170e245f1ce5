/**
 * End to end against the real test engine: labelled containers, `lbsync render` from the
 * Docker API, real nginx and HAProxy on 127.0.0.1, and HTTP requests that must reach exactly
 * the right containers, by host and by path, in both address modes.
 */
import assert from "node:assert/strict";
import { lbsync } from "../support/cli.ts";
import { answerSet, freePort, httpGet, startHaproxy, startNginx } from "../support/balancers.ts";
import { dockerOk, engineArgs, engineMissing, Scenario } from "../support/engine.ts";
import { missing } from "../support/tools.ts";

/** Bodies (trimmed) of `count` requests. */
const answers = answerSet;

/** The body a TCP service gives to a plain HTTP request. */
async function tcpAnswer(port: number): Promise<string> {
  return (await httpGet(port, "/", "tcp.test")).body.trim();
}

const ignore = missing("nginx", "haproxy") || await engineMissing();

Deno.test({
  name: "engine: render from the Docker API routes every service to exactly its containers",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const s = new Scenario();
    const L = `t${s.tag}`; // a label prefix of this test alone
    const tcpPort = freePort();
    const pub = ["-p", "127.0.0.1::8080"];
    const labels = (values: Record<string, string>) =>
      Object.entries(values).flatMap((
        [k, v],
      ) => ["-l", k.includes(".") ? `${k}=${v}` : `${L}.${k}=${v}`]);
    try {
      const a = await s.network("lbt-a");
      const b = await s.network("lbt-b");
      const onA = ["--network", a, ...pub];
      const web = labels({ service: "web", host: "web.test" });
      const web1 = await s.run("web-1", [...onA, ...web]);
      const web2 = await s.run("web-2", [...onA, ...web]);
      const unhealthy = [
        "--health-cmd",
        "false",
        "--health-interval",
        "1s",
        "--health-retries",
        "1",
      ];
      const sick = await s.run("sick-1", [...onA, ...web, ...unhealthy]);
      const api = await s.run("api-1", [
        ...onA,
        ...["-e", "PATHS=/api"],
        ...labels({ service: "api", host: "web.test", path: "/api", health: "/api/" }),
      ]);
      const stat = await s.run("static-1", [
        ...pub,
        ...["-e", "PATHS=/static"],
        ...labels({ enable: "true", "com.docker.compose.service": "static", path: "/static" }),
      ]);
      const dual = await s.run("dual-1", [
        ...onA,
        ...labels({ service: "dual", host: "dual.test", network: b }),
      ]);
      // on network a only, yet labelled for b (and unpublished): always out
      await s.run("nowhere-1", [
        ...["--network", a],
        ...labels({ service: "nowhere", host: "nowhere.test", network: b }),
      ]);
      const tcp = await s.run("tcp-1", [
        ...onA,
        ...labels({ service: "tcpsvc", mode: "tcp", listen: String(tcpPort) }),
      ]);
      await dockerOk(["network", "connect", b, dual.name]);
      await s.waitHealth(sick.name, "unhealthy");

      for (const mode of ["network", "published"]) {
        const dir = await Deno.makeTempDir({ prefix: "lbsync-e2e-" });
        const httpPort = freePort();
        const render = await lbsync([
          "render",
          ...engineArgs(L),
          "--address",
          mode,
          "--listen",
          String(httpPort),
          "--listen-address",
          "127.0.0.1",
          "-t",
          "nginx",
          "-o",
          `${dir}/http.conf`,
          "-t",
          "nginx-stream",
          "-o",
          `${dir}/stream.conf`,
          "-t",
          "haproxy",
          "-o",
          `${dir}/haproxy.cfg`,
        ]);
        assert.equal(render.code, 0, render.stderr);

        const explain = JSON.parse(
          (await lbsync([
            "explain",
            ...engineArgs(L),
            "--address",
            mode,
            "--format",
            "json",
          ])).stdout,
        );
        const status = Object.fromEntries(
          explain.containers.map((
            c: { name: string; status: string; reason: string },
          ) => [c.name, `${c.status}: ${c.reason}`]),
        );
        assert.match(status[sick.name], /^out: Docker health is unhealthy/);
        assert.match(
          status[s.name("nowhere-1")],
          mode === "network" ? /^out: not on network/ : /^out: port 8080\/tcp is not published/,
        );

        const check = async (label: string) => {
          await t.step(
            `${mode} mode, ${label}: web.test / reaches web-1 and web-2, never the unhealthy one`,
            async () => {
              assert.deepEqual(
                await answers(httpPort, "/", "web.test", 12),
                new Set([web1.id, web2.id]),
              );
            },
          );
          await t.step(`${mode} mode, ${label}: web.test /api/ reaches api-1`, async () => {
            assert.deepEqual(await answers(httpPort, "/api/", "web.test", 4), new Set([api.id]));
          });
          await t.step(`${mode} mode, ${label}: any host /static/ reaches static-1`, async () => {
            assert.deepEqual(
              await answers(httpPort, "/static/", "other.test", 4),
              new Set([stat.id]),
            );
          });
          await t.step(
            `${mode} mode, ${label}: dual.test reaches the container on two networks`,
            async () => {
              assert.deepEqual(await answers(httpPort, "/", "dual.test", 4), new Set([dual.id]));
            },
          );
          await t.step(
            `${mode} mode, ${label}: a service whose container is out answers 503`,
            async () => {
              assert.deepEqual(
                await answers(httpPort, "/", "nowhere.test", 2),
                new Set(["status 503"]),
              );
            },
          );
          await t.step(
            `${mode} mode, ${label}: an unknown host answers 404 outside default routes`,
            async () => {
              assert.deepEqual(
                await answers(httpPort, "/", "unknown.test", 2),
                new Set(["status 404"]),
              );
            },
          );
          await t.step(`${mode} mode, ${label}: the tcp service reaches tcp-1`, async () => {
            assert.equal(await tcpAnswer(tcpPort), tcp.id);
          });
        };

        const nginx = await startNginx({
          http: await Deno.readTextFile(`${dir}/http.conf`),
          stream: await Deno.readTextFile(`${dir}/stream.conf`),
        });
        try {
          await check("nginx");
        } finally {
          await nginx.stop();
        }
        const haproxy = await startHaproxy(await Deno.readTextFile(`${dir}/haproxy.cfg`));
        try {
          await check("HAProxy");
        } finally {
          await haproxy.stop();
        }
        await Deno.remove(dir, { recursive: true });
      }
    } finally {
      await s.cleanup();
    }
  },
});
