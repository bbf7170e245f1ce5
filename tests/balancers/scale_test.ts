/** Output sized for large installations: 5,000 hosts keep real nginx -t quiet. */
import assert from "node:assert/strict";
import { buildModel, render, templates } from "../../mod.ts";
import { haproxyCheck, nginxCheck } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

Deno.test({
  name: "5,000 hosts: nginx -t passes without a server_names_hash warning; haproxy -c passes",
  ignore: missing("nginx", "haproxy"),
  async fn() {
    resetContainers();
    const cs = Array.from({ length: 5000 }, (_, i) =>
      container(`site-${i}`, {
        "lbsync.service": `site-${i}`,
        // names up to 70 characters: longer than nginx's default 64-byte bucket allows
        "lbsync.host": `${"s".repeat(i % 40)}site-${i}.customers.example.com`,
      }));
    const { model } = buildModel(cs);
    assert.equal(model.httpListeners[0].virtualHosts.length, 5000);
    assert.ok(model.serverNamesHashBucketSize >= 128);
    const nginx = await nginxCheck({ http: render(templates.nginx, model) });
    assert.ok(nginx.ok, nginx.output);
    assert.doesNotMatch(nginx.output, /\[warn\]|server_names_hash/);
    const haproxy = await haproxyCheck(render(templates.haproxy, model));
    assert.ok(haproxy.ok, haproxy.output);
  },
});
