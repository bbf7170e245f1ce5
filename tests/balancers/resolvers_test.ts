/**
 * `--resolvers` (nginx-proxy's `RESOLVERS`): nginx's `resolver` for the http context, the
 * addresses checked and written as nginx reads them; through real nginx, an operator's
 * location that proxies to a name finds it at the DNS server given.
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, render, templates } from "../../mod.ts";
import { parseResolvers } from "../../lib/core/util/grammar.ts";
import { readOperatorFiles } from "../../lib/sources/operator_files.ts";
import { serveDns } from "../../lib/serve/dns/dns_server.ts";
import { backend, freePort, httpGet, nginxCheck, startBalancer } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { lbsync } from "../support/cli.ts";
import { missing } from "../support/tools.ts";

Deno.test("resolvers: addresses and parameters as nginx writes them, anything else refused", () => {
  const read = (value: string) => {
    try {
      return parseResolvers(value).join(" ");
    } catch (error) {
      return `! ${(error as Error).message}`;
    }
  };
  assert.deepEqual(
    [
      "8.8.8.8",
      "8.8.8.8 1.1.1.1",
      "8.8.8.8,1.1.1.1:5353",
      " 2001:DB8::53  [::1]:5353 ",
      "ipv6=off 127.0.0.11 valid=30s",
      "10.0.0.2 valid=1h30m ipv4=on",
    ].map(read),
    [
      "8.8.8.8",
      "8.8.8.8 1.1.1.1",
      "8.8.8.8 1.1.1.1:5353",
      "[2001:db8::53] [::1]:5353",
      "127.0.0.11 ipv6=off valid=30s",
      "10.0.0.2 valid=1h30m ipv4=on",
    ],
  );
  assert.deepEqual(
    [
      "",
      "valid=30s",
      "dns.example",
      "8.8.8.8;",
      "8.8.8.8 valid=500ms",
      "8.8.8.8 valid=1s valid=2s",
      "8.8.8.8 status_zone=x",
      "8.8.8.8:0",
      "[fe80::1%eth0]",
      "1.2.3.4.5",
    ].map(read),
    [
      "! names no DNS server address",
      "! names no DNS server address",
      '! "dns.example" is not a DNS server address: use IPV4, IPV4:PORT, IPV6 or [IPV6]:PORT',
      '! "8.8.8.8;" is not a DNS server address: use IPV4, IPV4:PORT, IPV6 or [IPV6]:PORT',
      '! "valid=500ms": the parameters are valid=TIME (30s, 5m), ipv4=on|off, ipv6=on|off',
      "! valid= is given twice",
      '! "status_zone=x": the parameters are valid=TIME (30s, 5m), ipv4=on|off, ipv6=on|off',
      '! "8.8.8.8:0": the port must be 1..65535',
      '! "[fe80::1%eth0]": nginx takes no scoped IPv6 address',
      '! "1.2.3.4.5" is not a DNS server address: use IPV4, IPV4:PORT, IPV6 or [IPV6]:PORT',
    ],
  );
});

Deno.test("resolvers: the CLI writes nginx-proxy's resolver line, and refuses a bad value", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-resolvers-" });
  try {
    await Deno.writeTextFile(`${dir}/containers.json`, "[]");
    const args = ["render", "--from-file", `${dir}/containers.json`, "-t", "nginx", "-o", "-"];
    // nginx-proxy's test_resolvers: RESOLVERS=8.8.8.8 gives `resolver 8.8.8.8;`
    const given = await lbsync([...args, "--resolvers", "8.8.8.8"]);
    assert.equal(given.code, 0, given.stderr);
    assert.match(given.stdout, /^resolver 8\.8\.8\.8;$/m);
    const none = await lbsync(args);
    assert.doesNotMatch(none.stdout, /^resolver /m);
    const bad = await lbsync([...args, "--resolvers", "8.8.8.8; include /etc/passwd"]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /Invalid --resolvers "8\.8\.8\.8; include \/etc\/passwd": "8\.8\.8\.8;"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "resolvers: real nginx takes them, and an operator's location finds a name through them",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const many = parseResolvers("127.0.0.1:5353 [::1]:5353 2001:db8::53 valid=30s ipv6=off");
    const checked = await nginxCheck({
      http: render(templates.nginx, buildModel([], { resolvers: many }).model),
    });
    assert.ok(checked.ok, checked.output);

    const dir = await Deno.makeTempDir({ prefix: "lbsync-resolvers-" });
    const answer = backend("found by name");
    const dns = await serveDns(`127.0.0.1:${freePort()}`);
    dns.update(new Map([["named.lbsync.internal", { a: ["127.0.0.1"], aaaa: [] }]]));
    try {
      // the operator's location proxies to a name nginx resolves at run time
      await Deno.writeTextFile(
        `${dir}/app.test_location_override`,
        [
          "location / {",
          "    set $named named.lbsync.internal;",
          `    proxy_pass http://$named:${answer.port};`,
          "}",
          "",
        ].join("\n"),
      );
      const listen = freePort();
      const app: ContainerInfo = container("app", {
        "lbsync.service": "app",
        "lbsync.host": "app.test",
      });
      const { model } = buildModel([app], {
        listen,
        listenAddress: "127.0.0.1",
        resolvers: parseResolvers(`127.0.0.1:${dns.port} valid=1s`),
        operatorFiles: await readOperatorFiles({ vhostDir: dir }),
      });
      assert.equal(model.resolvers, `127.0.0.1:${dns.port} valid=1s`);
      const nginx = await startBalancer("nginx", model);
      try {
        const r = await httpGet(listen, "/", "app.test");
        assert.equal(`${r.status} ${r.body}`, "200 found by name");
      } finally {
        await nginx.stop();
      }
    } finally {
      await dns.close();
      await answer.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
