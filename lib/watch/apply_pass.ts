/**
 * The apply step of a pass: the rendered targets that go to files, each with where its balancer
 * serves the generation, and the notification sent after a reload (`--signal-container`).
 *
 * @module
 */
import type { ApplyTarget } from "../apply/apply.ts";
import type { RenderedTarget } from "../apply/targets.ts";
import { DockerEngine } from "../sources/docker.ts";
import { resolveEndpoints } from "../sources/docker_endpoint.ts";
import type { RunSettings } from "./run_settings.ts";
import type { RunOptions } from "./run_options.ts";

/**
 * The rendered targets that go to files, each with where its balancer serves the generation
 * of the file it runs: the default http listener, on loopback unless the balancer listens on
 * one address only.
 */
export function fileTargetsOf(rendered: RenderedTarget[], options: RunSettings): ApplyTarget[] {
  const address = options.listenAddress;
  const hostname = address === undefined || address === "0.0.0.0"
    ? "127.0.0.1"
    : address === "::"
    ? "::1"
    : address;
  return rendered
    .filter((t) => t.output !== "-")
    .map((t) => ({
      ...t,
      confirm: {
        hostname,
        port: options.listen,
        ...(options.proxyProtocol ? { proxyProtocol: true } : {}),
      },
    }));
}

/** The `notify` step of an apply: signal a container when `--signal-container` is set. */
export function notifierOf(options: RunOptions): (() => Promise<string>) | undefined {
  const target = options.signalContainer;
  if (!target) return undefined;
  return async () => {
    const [endpoint] = resolveEndpoints(options.docker);
    await new DockerEngine(endpoint, options.dockerTimeoutMs).signal(target.name, target.signal);
    return `sent ${target.signal} to container ${target.name}`;
  };
}
