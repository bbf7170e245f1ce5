/**
 * Label groups on the real engine: one container serving http on 8080 and a TCP service on
 * 9000 is two services, and real nginx (http + stream) and real HAProxy route both.
 */
import assert from "node:assert/strict";
import { lbsync } from "../support/cli.ts";
import { answerSet, freePort, httpGet, startHaproxy, startNginx } from "../support/balancers.ts";
import { engineArgs, engineMissing, Scenario } from "../support/engine.ts";
import { missing } from "../support/tools.ts";

/** Serves its hostname on 8080, and `tcp-` + hostname on 9000. */
const TWO_PORTS = [
  "/bin/sh",
  "-c",
  'mkdir -p /www /tcp; echo "$HOSTNAME" > /www/index.html; echo "tcp-$HOSTNAME" > /tcp/index.html; ' +
  "httpd -p 9000 -h /tcp; trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait",
];

Deno.test({
  name:
    "engine: a container with two label groups serves an http and a tcp service through nginx and HAProxy",
  ignore: missing("nginx", "haproxy") || await engineMissing(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s = new Scenario();
    const L = `g${s.tag}`;
    const dir = await Deno.makeTempDir({ prefix: "lbsync-groups-" });
    const httpPort = freePort();
    const tcpPort = freePort();
    const labels = {
      "web.port": "8080",
      "web.host": "web.test",
      "admin.port": "9000",
      "admin.mode": "tcp",
      "admin.listen": String(tcpPort),
    };
    const stops: (() => Promise<void>)[] = [];
    try {
      const args = [
        "--expose",
        "9000",
        ...Object.entries(labels).flatMap(([k, v]) => ["-l", `${L}.${k}=${v}`]),
      ];
      const one = await s.run("multi-1", args, TWO_PORTS);
      const two = await s.run("multi-2", args, TWO_PORTS);
      const render = await lbsync([
        "render",
        ...engineArgs(L, httpPort),
        ...["-t", "nginx", "-o", `${dir}/http.conf`],
        ...["-t", "nginx-stream", "-o", `${dir}/stream.conf`],
        ...["-t", "haproxy", "-o", `${dir}/haproxy.cfg`],
      ]);
      assert.equal(render.code, 0, render.stderr);
      const ids = [one.id, two.id].sort();
      const tcpAnswers = async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 8; i++) seen.add((await httpGet(tcpPort, "/", "tcp.test")).body.trim());
        return [...seen].sort();
      };

      const nginx = await startNginx({
        http: await Deno.readTextFile(`${dir}/http.conf`),
        stream: await Deno.readTextFile(`${dir}/stream.conf`),
      });
      stops.push(nginx.stop);
      assert.deepEqual([...await answerSet(httpPort, "/", "web.test", 8)].sort(), ids);
      assert.deepEqual(await tcpAnswers(), ids.map((id) => `tcp-${id}`));
      await stops.pop()!();

      const haproxy = await startHaproxy(await Deno.readTextFile(`${dir}/haproxy.cfg`));
      stops.push(haproxy.stop);
      assert.deepEqual([...await answerSet(httpPort, "/", "web.test", 8)].sort(), ids);
      assert.deepEqual(await tcpAnswers(), ids.map((id) => `tcp-${id}`));
    } finally {
      for (const stop of stops) await stop();
      await s.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
