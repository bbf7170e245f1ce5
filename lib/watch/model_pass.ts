/**
 * The model of a pass, the one path every command builds it by: `render`, `explain` and
 * `route` (through `passModel`) and watch mode's passes (the Watcher) give the containers and
 * what the model reads besides them, the operator's directories, the store's static services
 * and the ports other processes hold, to {@link buildPassModel}. What differs is only how
 * each reads those inputs: once, or keeping the last good read across a watch.
 *
 * @module
 */
import { DEFAULTS } from "../core/defaults.ts";
import { localPortProbe } from "../apply/confirm_reload.ts";
import { readInputFile } from "../sources/files.ts";
import { readCertificateDirectory } from "../sources/cert_dir.ts";
import { readOperatorFiles } from "../sources/operator_files.ts";
import type { Target } from "../apply/targets.ts";
import type { ContainerInfo, ModelOptions, ModelResult } from "../core/types.ts";
import type { StoreServices } from "../core/input/store_entries.ts";
import { buildReadyModel, type BusyPortProbe, type ReadyModelSettings } from "./readiness.ts";
import type { RunSettings } from "./run_settings.ts";
import type { RunOptions } from "./run_options.ts";

/** What the operator's directories give the model, as model options, with warnings about them. */
export interface DirectoryInputs {
  options: Partial<ModelOptions>;
  warnings: string[];
}

/** What a model is built from besides the containers. */
export interface PassInputs {
  directories: DirectoryInputs;
  /** The static services of `--store`, when it holds them, with a warning per value skipped. */
  stored?: Pick<StoreServices, "services" | "warnings">;
  /** Which listen ports other processes hold. */
  busyPorts: BusyPortProbe;
}

/** How long a pass waits for new containers to get ready, and which are not probed. */
export type PassReadiness = Omit<ReadyModelSettings, "busyPorts">;

/**
 * The model of `containers` with the settings and inputs of a pass: readiness, the ports
 * others hold, certificates, the operator's files and the static services; the inputs'
 * warnings join the model's.
 */
export async function buildPassModel(
  containers: ContainerInfo[],
  settings: RunSettings,
  inputs: PassInputs,
  readiness: PassReadiness,
): Promise<ModelResult> {
  const result = await buildReadyModel(
    containers,
    {
      ...settings,
      ...inputs.directories.options,
      ...(inputs.stored ? { staticServices: inputs.stored.services } : {}),
    },
    { ...readiness, busyPorts: inputs.busyPorts },
  );
  result.warnings.push(...inputs.directories.warnings, ...(inputs.stored?.warnings ?? []));
  return result;
}

/**
 * The static services of `--store`, read once (its client loads only then).
 *
 * @throws {StoreError} when no member of the store answers
 */
export async function readStoreServices(options: RunOptions): Promise<StoreServices | undefined> {
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
export async function readDirectoryInputs(options: RunOptions): Promise<DirectoryInputs> {
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
 * The busy-port probe of a run: only when lbsync reloads a balancer itself (a file target
 * with a reload command), since only then is the balancer on this host; never in a dry run.
 */
export async function busyPortProbe(
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
