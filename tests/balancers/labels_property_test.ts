/**
 * Property: containers whose labels are generated from lbsync's own grammars always give
 * configs that real `nginx -t` and `haproxy -c` accept (a value the balancers would refuse is
 * refused by the grammar first, with the container skipped and the reason named).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { buildModel, type ContainerInfo, render, templates } from "../../mod.ts";
import { haproxyCheck, nginxCheck } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { labelSet } from "../support/label_arbitraries.ts";
import { missing } from "../support/tools.ts";

const RUNS = 60;

Deno.test({
  name: "property: labels from lbsync's grammars render configs real nginx and HAProxy accept",
  ignore: missing("nginx") || missing("haproxy"),
  async fn() {
    let servers = 0;
    let skipped = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(labelSet, fc.integer({ min: 1, max: 254 })), {
          minLength: 1,
          maxLength: 8,
        }),
        async (items) => {
          resetContainers();
          const containers: ContainerInfo[] = items.map(([labels, ip], i) =>
            container(`c-${i}`, labels, {
              networks: [{ name: "app", ip: `10.0.0.${ip}`, ipv6: "" }],
            })
          );
          const { model, skipped: out } = buildModel(containers, {});
          servers += model.services.reduce((n, s) => n + s.servers.length, 0);
          skipped += out.length;
          const nginx = await nginxCheck({
            http: render(templates.nginx, model),
            stream: render(templates["nginx-stream"], model),
          });
          assert.ok(
            nginx.ok,
            `nginx -t refused:\n${nginx.output}\nlabels: ${JSON.stringify(items)}`,
          );
          const haproxy = await haproxyCheck(render(templates.haproxy, model));
          assert.ok(
            haproxy.ok,
            `haproxy -c refused:\n${haproxy.output}\nlabels: ${JSON.stringify(items)}`,
          );
        },
      ),
      { numRuns: RUNS, seed: 20261202 },
    );
    // the property is about configs with servers in them, not about skipped containers
    assert.ok(servers > RUNS, `${servers} servers rendered, ${skipped} containers skipped`);
    console.log(`labels property: ${RUNS} configs, ${servers} servers, ${skipped} skipped`);
  },
});
