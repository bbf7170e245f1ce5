/**
 * One pass: discover containers, build the model, render every target, write what changed.
 *
 * @module
 */
import { DEFAULTS } from "../core/defaults.ts";
import { type ApplyReport, type ApplyTarget, applyTargets } from "../apply/apply.ts";
import type { HaproxyRuntime } from "../haproxy/runtime_apply.ts";
import { buildReadyModel, type BusyPortProbe, ReadinessGate } from "./readiness.ts";
import { localPortProbe } from "../apply/confirm_reload.ts";
import { DockerEngine, type EngineFailure, listEngines } from "../sources/docker.ts";
import { resolveEndpoints } from "../sources/docker_endpoint.ts";
import {
  denoFileReader,
  type FileReader,
  readContainerFiles,
  readInputFile,
} from "../sources/files.ts";
import { readCertificateDirectory } from "../sources/cert_dir.ts";
import { readOperatorFiles } from "../sources/operator_files.ts";
import { SwarmManagers } from "../sources/swarm_managers.ts";
import { loadTargets, type RenderedTarget, renderTargets, type Target } from "../apply/targets.ts";
import type { ContainerInfo, ModelOptions, ModelResult } from "../core/types.ts";
import { finalizeRunOptions, type RunSettings } from "./run_settings.ts";
import type { RunOptions } from "./run_options.ts";
import type { StoreServices } from "../core/input/store_entries.ts";

export type { RunOptions } from "./run_options.ts";

/** A rendered target and whether its output file changed. */
export interface TargetOutcome extends RenderedTarget {
  /** True when the output differed from the live file (always for `-`). */
  changed: boolean;
  /** Unified diff against the live file, in a dry run. */
  diff?: string;
  /** Backup made of the replaced file. */
  backup?: string;
}

/** What {@link runOnce} did. */
export interface RunResult extends ModelResult {
  /** Every container discovered. */
  containers: ContainerInfo[];
  /** Engines that did not answer (only with `allowPartial`). */
  failures: EngineFailure[];
  /** Each target, in the order given. */
  targets: TargetOutcome[];
  /** Checks and reloads run. */
  apply: ApplyReport;
}

/** The reads a run needs; tests may replace them. */
export type RunIo = FileReader;

/** Reads through Deno's file APIs. */
export const denoRunIo: RunIo = denoFileReader;

/** Containers of every source, and the engines that failed (with `allowPartial`). */
export interface Discovery {
  /** Every container of every source. */
  containers: ContainerInfo[];
  /** Engines that did not answer (only with `allowPartial`). */
  failures: EngineFailure[];
  /** Ids of the containers read from files (not probed for readiness). */
  fromFiles: Set<string>;
  /** A Swarm read through several managers: the one that answered. */
  manager?: string;
}

/** True when a run reads Docker Engines: some are named, or no file is given. */
export function usesEngines(options: RunOptions): boolean {
  return (options.docker?.urls?.length ?? 0) > 0 || (options.fromFiles ?? []).length === 0;
}

/**
 * Lists the containers of every configured source: the files, and the engines when any
 * are named or no file is given.
 *
 * @throws {ConfigError} for a bad endpoint or TLS file
 * @throws {DockerError} when a source cannot be read
 */
export async function discover(
  options: RunOptions,
  io: FileReader = denoRunIo,
): Promise<Discovery> {
  const files = options.fromFiles ?? [];
  const useDocker = usesEngines(options);
  const managers = useDocker ? swarmManagersOf(options) : undefined;
  const [fromFiles, fromDocker] = await Promise.all([
    files.length > 0 ? readContainerFiles(files, io) : [],
    managers
      ? managers.list().then((containers) => ({ containers, failures: [] }))
      : useDocker
      ? listEngines(dockerEngines(options), { allowPartial: options.allowPartial })
      : { containers: [], failures: [] },
  ]);
  return {
    containers: [...fromFiles, ...fromDocker.containers],
    failures: fromDocker.failures,
    fromFiles: new Set(fromFiles.map((c) => c.id)),
    ...(managers ? { manager: managers.current.endpoint.url } : {}),
  };
}

/**
 * Several engines in Swarm mode are the managers of one swarm, read as one source; `undefined`
 * for one engine or without Swarm mode.
 */
export function swarmManagersOf(options: RunOptions): SwarmManagers | undefined {
  if (!options.swarm || (options.docker?.urls?.length ?? 0) < 2) return undefined;
  return new SwarmManagers(dockerEngines(options));
}

/**
 * Discovers containers, builds the model, renders every target, then writes each output
 * whose bytes changed. Templates are loaded and parsed before any source is read, and all
 * targets are rendered before any is written.
 *
 * @example
 * ```ts
 * import { runOnce } from "./run_once.ts";
 * const result = await runOnce({
 *   fromFiles: ["examples/containers.json"],
 *   targets: [{ template: "haproxy", output: "-" }],
 * });
 * console.log(result.targets[0].content.length > 0); // true
 * ```
 */
export async function runOnce(given: RunOptions, io: RunIo = denoRunIo): Promise<RunResult> {
  const options = finalizeRunOptions(given);
  const loaded = await loadTargets(options.targets ?? [], io.readTextFile);
  const { result, discovery } = await passModel(options, io);
  const rendered = renderTargets(loaded, result.model);
  const files = applyTargetsOf(rendered, options);
  const haproxy = await haproxyRuntimeFor(files, options.drainTimeoutMs);
  const apply = await applyTargets(files, {
    ...options.apply,
    notify: notifier(options),
    haproxy,
  });
  await haproxy?.settled();
  const targets = rendered.map((t): TargetOutcome => {
    const report = apply.targets.find((r) => r.output === t.output);
    return { ...t, changed: report?.changed ?? true, diff: report?.diff, backup: report?.backup };
  });
  const { containers, failures } = discovery;
  return { ...result, containers, failures, targets, apply };
}

/** The HAProxy runtime client, loaded only when a target names an HAProxy socket. */
async function haproxyRuntimeFor(
  files: readonly { haproxySocket?: string }[],
  drainTimeoutMs: number | undefined,
): Promise<HaproxyRuntime | undefined> {
  if (!files.some((f) => f.haproxySocket)) return undefined;
  const { HaproxyRuntime } = await import("../haproxy/runtime_apply.ts");
  return new HaproxyRuntime({ drainTimeoutMs });
}

/**
 * The model of one pass: the one path of `render`, `explain` and `route`, so that what the
 * reports say is what `render` writes. Discovers the containers, probes the new ones (waiting
 * up to `readyTimeoutMs` for them) and the ports others hold, reads the operator's directories
 * (certificates, htpasswd and vhost files), and builds.
 *
 * @throws {ConfigError} for a bad endpoint or TLS file
 * @throws {DockerError} when a source cannot be read
 */
export async function passModel(
  options: RunSettings,
  io: FileReader = denoRunIo,
): Promise<{ result: ModelResult; discovery: Discovery }> {
  const discovery = await discover(options, io);
  const gate = new ReadinessGate({ probeTimeoutMs: probeTimeout(options) });
  const probe = await portProbeOf(options.targets ?? [], options);
  const directories = await directoryOptionsOf(options);
  const stored = await storeServicesOf(options);
  const result = await buildReadyModel(
    discovery.containers,
    {
      ...options,
      ...directories.options,
      ...(stored ? { staticServices: stored.services } : {}),
    },
    gate,
    options.readyTimeoutMs,
    discovery.fromFiles,
    probe,
  );
  result.warnings.push(...directories.warnings, ...(stored?.warnings ?? []));
  return { result, discovery };
}

/**
 * The static services of `--store`, read once (its client loads only then).
 *
 * @throws {StoreError} when no member of the store answers
 */
async function storeServicesOf(options: RunOptions): Promise<StoreServices | undefined> {
  if (options.store === undefined) return undefined;
  const { readStore } = await import("../sources/store.ts");
  return await readStore(options.store);
}

/**
 * What the model reads from the operator's directories, as model options: the certificates of
 * `certDir`, the htpasswd and vhost files and `proxyConf`; with the warnings about them.
 *
 * @throws {LbsyncError} when a directory cannot be read
 */
export async function directoryOptionsOf(
  options: RunOptions,
): Promise<{ options: Partial<ModelOptions>; warnings: string[] }> {
  const operatorFiles = await readOperatorFiles(options);
  const found = options.certDir === undefined
    ? undefined
    : await readCertificateDirectory(options.certDir);
  const warnings = [...(found?.warnings ?? [])];
  // the operator's file is the whole of an internal route's access rule, as in nginx-proxy
  const internal = operatorFiles?.networkInternalConf;
  if (internal && !/^\s*deny\s/m.test(await readInputFile(internal.path).catch(() => "deny "))) {
    warnings.push(
      `--network-internal-conf ${internal.path} denies no client: the routes of lbsync.access=internal services answer every client`,
    );
  }
  return {
    options: {
      ...(found
        ? { certificates: found.certificates, clientCertFiles: found.clientCertFiles }
        : {}),
      ...(operatorFiles ? { operatorFiles } : {}),
    },
    warnings,
  };
}

/**
 * The Docker Engines of `options`: its `docker` endpoints (else `DOCKER_HOST`, else the
 * default socket), each with the request timeout, Swarm mode and inspection it asks for.
 */
export function dockerEngines(options: RunOptions): DockerEngine[] {
  return resolveEndpoints(options.docker).map((endpoint) =>
    new DockerEngine(
      endpoint,
      options.dockerTimeoutMs,
      options.swarm,
      options.compat === "nginx-proxy",
    )
  );
}

/**
 * The rendered targets that go to files, each with where its balancer serves the generation
 * of the file it runs: the default http listener, on loopback unless the balancer listens on
 * one address only.
 */
export function applyTargetsOf(rendered: RenderedTarget[], options: RunSettings): ApplyTarget[] {
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

/**
 * The busy-port probe of a run: only when lbsync reloads a balancer itself (a file target
 * with a reload command), since only then is the balancer on this host; never in a dry run.
 */
export async function portProbeOf(
  targets: Target[],
  options: RunSettings,
): Promise<BusyPortProbe> {
  const reloaded = targets.filter((t) => t.output !== "-" && t.reload);
  if (reloaded.length === 0 || options.apply?.dryRun) return () => new Map();
  const live = await Promise.all(
    reloaded.map((t) => Deno.readTextFile(t.output).catch(() => "")),
  );
  return localPortProbe(live, options.listen, options.listenAddress);
}

/** One probe's bound: 2 s, or less when the ready timeout is shorter. */
export function probeTimeout(options: RunSettings): number {
  return Math.max(
    100,
    Math.min(DEFAULTS.probeTimeoutMs, options.readyTimeoutMs),
  );
}

/** The `notify` step of an apply: signal a container when `--signal-container` is set. */
export function notifier(options: RunOptions): (() => Promise<string>) | undefined {
  const target = options.signalContainer;
  if (!target) return undefined;
  return async () => {
    const [endpoint] = resolveEndpoints(options.docker);
    await new DockerEngine(endpoint, options.dockerTimeoutMs).signal(target.name, target.signal);
    return `sent ${target.signal} to container ${target.name}`;
  };
}
