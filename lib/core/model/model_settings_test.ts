/**
 * finalizeModelOptions is idempotent: settings finalized at a run's entry and again at
 * buildModel's are the same settings (the upstream names of --compat nginx-proxy depend on it).
 */
import assert from "node:assert/strict";
import { finalizeModelOptions } from "./model_settings.ts";
import { buildModel, render, templates } from "../../../mod.ts";
import { finalizeRunOptions } from "../../watch/run_settings.ts";
import { container, resetContainers } from "../../../tests/support/fixtures.ts";

Deno.test("finalizeModelOptions(finalizeModelOptions(x)) is finalizeModelOptions(x)", () => {
  for (
    const given of [{}, { compat: "nginx-proxy" as const }, {
      compat: "nginx-proxy" as const,
      namePrefix: "app_",
    }, { listen: 8080, labelPrefix: "x" }]
  ) {
    const once = finalizeModelOptions(given);
    assert.deepEqual(finalizeModelOptions(once), once, JSON.stringify(given));
  }
});

Deno.test("--compat nginx-proxy names the upstream after the host through a run's settings too", () => {
  resetContainers();
  const web = container("web", {}, {
    env: { VIRTUAL_HOST: "web.nginx-proxy.tld" },
    networks: [{ name: "n", ip: "10.0.0.2", ipv6: "" }],
    ports: [{ port: 80, protocol: "tcp", published: [] }],
  });
  const settings = finalizeRunOptions({ compat: "nginx-proxy", targets: [] });
  const text = render(templates.nginx, buildModel([web], settings).model);
  assert.match(text, /^upstream web\.nginx-proxy\.tld \{$/m);
});
