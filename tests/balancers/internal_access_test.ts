/**
 * `lbsync.access=internal` (nginx-proxy's `NETWORK_ACCESS=internal`): a host answers only
 * clients of `--internal-networks`, others get 403, through real nginx and real HAProxy.
 * The client here is 127.0.0.1: internal by default, external when the list leaves it out.
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo } from "../../mod.ts";
import {
  backend,
  BALANCERS,
  freePort,
  httpGet,
  rawRequest,
  startBalancer,
} from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";
import { readOperatorFiles } from "../../lib/sources/operator_files.ts";
import { readDirectoryInputs } from "../../lib/watch/model_pass.ts";

Deno.test({
  name:
    "internal access: hosts of internal services answer only internal clients, on both balancers",
  ignore: missing("nginx", "haproxy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const inner = backend("inner");
    const outer = backend("outer");
    const local = (name: string, port: number, labels: Record<string, string>): ContainerInfo =>
      container(name, { "lbsync.service": name, ...labels }, {
        networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
        ports: [{ port, protocol: "tcp", published: [] }],
      });
    const listen = freePort();
    const containers = [
      local("inner", inner.port, { "lbsync.host": "inner.test", "lbsync.access": "internal" }),
      local("outer", outer.port, { "lbsync.host": "outer.test" }),
    ];
    const answers = async () =>
      await Promise.all(["inner.test", "outer.test"].map(async (host) => {
        const r = await httpGet(listen, "/", host);
        return r.status === 200 ? `${host} ${r.body.trim()}` : `${host} ${r.status}`;
      }));
    try {
      for (
        const [networks, expected] of [
          [undefined, ["inner.test inner", "outer.test outer"]],
          [["10.99.0.0/16", "fd00::/8"], ["inner.test 403", "outer.test outer"]],
        ] as const
      ) {
        const model = buildModel(containers, {
          listen,
          listenAddress: "127.0.0.1",
          internalNetworks: networks,
        }).model;
        for (const name of BALANCERS) {
          const balancer = await startBalancer(name, model);
          try {
            assert.deepEqual(await answers(), expected, `${name}, networks ${networks}`);
            // another name in an absolute-form target cannot reach the internal host
            for (
              const [target, host] of [["http://outer.test/", "inner.test"], [
                "http://inner.test/",
                "outer.test",
              ]]
            ) {
              const r = await rawRequest(
                listen,
                `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
              );
              assert.equal(r.status, 400, `${name}: ${target} with Host ${host}`);
            }
          } finally {
            await balancer.stop();
          }
        }
      }
    } finally {
      await inner.close();
      await outer.close();
    }
  },
});

Deno.test("internal access: NETWORK_ACCESS in compat mode, and a bad value is named", () => {
  resetContainers();
  const { model, skipped } = buildModel([
    container("a", {}, {
      env: { VIRTUAL_HOST: "a.test", VIRTUAL_PORT: "80", NETWORK_ACCESS: "internal" },
    }),
    container("b", {}, {
      env: { VIRTUAL_HOST: "b.test", VIRTUAL_PORT: "80", NETWORK_ACCESS: "sometimes" },
    }),
  ], { compat: "nginx-proxy" });
  // as nginx-proxy's: the container's own routes are guarded, not its host as a whole
  assert.deepEqual(
    model.httpListeners[0].virtualHosts.map((v) =>
      `${v.host} host=${v.internalOnly} routes=${v.routes.map((r) => r.internalOnly)}`
    ),
    ["a.test host=false routes=true"],
  );
  assert.deepEqual(model.httpListeners[0].internalGroups, []);
  // lbsync's own labels guard the host of an internal service as a whole
  const labelled = buildModel([
    container("in", {
      "lbsync.service": "in",
      "lbsync.host": "in.test",
      "lbsync.access": "internal",
    }),
    container("api", { "lbsync.service": "api", "lbsync.host": "in.test", "lbsync.path": "/api/" }),
  ]).model.httpListeners[0];
  assert.deepEqual(
    labelled.virtualHosts.map((v) =>
      `${v.host} host=${v.internalOnly} routes=${
        v.routes.map((r) => `${r.path}:${r.internalOnly}`)
      }`
    ),
    ["in.test host=true routes=/api/:false,/:true"],
  );
  assert.deepEqual(labelled.internalGroups, ["in.test"]);
  assert.deepEqual(skipped.map((s) => s.reason), [
    'group vh0: label lbsync.vh0.access="sometimes": not one of internal, external',
  ]);
});

Deno.test({
  name:
    "internal access: the operator's network_internal.conf in internal hosts' locations, as nginx-proxy's test_internal",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const dir = await Deno.makeTempDir({ prefix: "lbsync-internal-" });
    const conf = `${dir}/network_internal.conf`;
    const web1 = backend("answer from port 81");
    const web2 = backend("answer from port 82");
    const listen = freePort();
    const local = (port: number, env: Record<string, string>): ContainerInfo =>
      container(`web${port}`, {}, {
        env: { VIRTUAL_PORT: String(port), ...env },
        networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
        ports: [{ port, protocol: "tcp", published: [] }],
      });
    const containers = [
      local(web1.port, { VIRTUAL_HOST: "web1.nginx-proxy.example", NETWORK_ACCESS: "internal" }),
      local(web2.port, { VIRTUAL_HOST: "web2.nginx-proxy.example" }),
    ];
    /** What each host answers, and its X-network header, with this file and these networks. */
    const answers = async (text: string, internalNetworks?: string[]) => {
      await Deno.writeTextFile(conf, text);
      const { model } = buildModel(containers, {
        listen,
        listenAddress: "127.0.0.1",
        compat: "nginx-proxy",
        internalNetworks,
        operatorFiles: await readOperatorFiles({ networkInternalConf: conf }),
      });
      const nginx = await startBalancer("nginx", model);
      try {
        return await Promise.all(["web1", "web2"].map(async (name) => {
          const r = await httpGet(listen, "/port", `${name}.nginx-proxy.example`);
          const body = r.status === 200 ? ` ${r.body}` : "";
          return `${name} ${r.status}${body} X-network=${r.headers.get("x-network") ?? "none"}`;
        }));
      } finally {
        await nginx.stop();
      }
    };
    try {
      // nginx-proxy's test file: the header on the internal host only
      assert.deepEqual(await answers(NGINX_PROXY_FILE), [
        "web1 200 answer from port 81 X-network=internal",
        "web2 200 answer from port 82 X-network=none",
      ]);
      // its allow list takes over from --internal-networks in the routes
      assert.deepEqual(await answers(NGINX_PROXY_FILE, ["10.99.0.0/16"]), [
        "web1 200 answer from port 81 X-network=internal",
        "web2 200 answer from port 82 X-network=none",
      ]);
      assert.deepEqual(await answers("allow 10.99.0.0/16;\ndeny all;\n"), [
        "web1 403 X-network=none",
        "web2 200 answer from port 82 X-network=none",
      ]);
      // the file is the whole rule, as nginx-proxy's: one that denies no one lets all in
      // (lbsync warns: see readDirectoryInputs)
      assert.deepEqual(await answers("add_header X-network internal;\n", ["10.99.0.0/16"]), [
        "web1 200 answer from port 81 X-network=internal",
        "web2 200 answer from port 82 X-network=none",
      ]);
      const warned = await readDirectoryInputs({ networkInternalConf: conf });
      assert.deepEqual(warned.warnings, [
        `--network-internal-conf ${conf} denies no client: the routes of lbsync.access=internal services answer every client`,
      ]);
      await Deno.writeTextFile(conf, NGINX_PROXY_FILE);
      assert.deepEqual((await readDirectoryInputs({ networkInternalConf: conf })).warnings, []);
    } finally {
      await web1.close();
      await web2.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** nginx-proxy's test/test_internal/network_internal.conf. */
const NGINX_PROXY_FILE = `# Only allow traffic from internal clients
allow 127.0.0.0/8;
allow 10.0.0.0/8;
allow 192.168.0.0/16;
allow 172.16.0.0/12;
allow fc00::/7; # IPv6 local address range
deny all;

# Dummy header for testing
add_header X-network internal;
`;

Deno.test({
  name:
    "internal access: an internal path of a public host answers only internal clients, as nginx-proxy's test_internal-per-vpath",
  ignore: missing("nginx", "haproxy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const dir = await Deno.makeTempDir({ prefix: "lbsync-internal-" });
    const conf = `${dir}/network_internal.conf`;
    await Deno.writeTextFile(conf, NGINX_PROXY_FILE);
    const site = backend("site");
    const admin = backend("admin");
    const web1 = backend("answer from port 81");
    const web2 = backend("answer from port 82");
    const listen = freePort();
    const local = (port: number, env: Record<string, string>): ContainerInfo =>
      container(`c${port}`, {}, {
        env: { VIRTUAL_PORT: String(port), ...env },
        networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
        ports: [{ port, protocol: "tcp", published: [] }],
      });
    const containers = [
      // a public site with an internal /admin/: the host's owner is public
      local(site.port, { VIRTUAL_HOST: "site.test" }),
      local(admin.port, {
        VIRTUAL_HOST: "site.test",
        VIRTUAL_PATH: "/admin/",
        NETWORK_ACCESS: "internal",
      }),
      // nginx-proxy's test: two paths of one host, one internal
      local(web1.port, {
        VIRTUAL_HOST: "nginx-proxy.example",
        VIRTUAL_PATH: "/web1/",
        VIRTUAL_DEST: "/",
        NETWORK_ACCESS: "internal",
      }),
      local(web2.port, {
        VIRTUAL_HOST: "nginx-proxy.example",
        VIRTUAL_PATH: "/web2/",
        VIRTUAL_DEST: "/",
      }),
    ];
    const ask = async (host: string, path: string) => {
      const r = await httpGet(listen, path, host);
      const header = r.headers.get("x-network");
      return `${r.status}${r.status === 200 ? ` ${r.body}` : ""}${
        header ? ` X-network=${header}` : ""
      }`;
    };
    try {
      for (
        const [networks, files, expected] of [
          // the client (127.0.0.1) is internal; the operator's file marks the internal paths
          [undefined, true, {
            site: "200 site",
            admin: "200 admin X-network=internal",
            web1: "200 answer from port 81 X-network=internal",
            web2: "200 answer from port 82",
          }],
          // the client is external: the internal paths say 403, the public ones answer
          [["10.99.0.0/16"], false, {
            site: "200 site",
            admin: "403",
            web1: "403",
            web2: "200 answer from port 82",
          }],
        ] as const
      ) {
        const model = buildModel(containers, {
          listen,
          listenAddress: "127.0.0.1",
          compat: "nginx-proxy",
          internalNetworks: networks,
          operatorFiles: files ? await readOperatorFiles({ networkInternalConf: conf }) : undefined,
        }).model;
        for (const name of files ? (["nginx"] as const) : BALANCERS) {
          const balancer = await startBalancer(name, model);
          try {
            const answers = {
              site: await ask("site.test", "/"),
              admin: await ask("site.test", "/admin/x"),
              web1: await ask("nginx-proxy.example", "/web1/port"),
              web2: await ask("nginx-proxy.example", "/web2/port"),
            };
            assert.deepEqual(answers, expected, `${name}, networks ${networks}`);
          } finally {
            await balancer.stop();
          }
        }
      }
    } finally {
      for (const b of [site, admin, web1, web2]) await b.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
