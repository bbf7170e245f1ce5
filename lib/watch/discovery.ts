/**
 * Where a pass's containers come from, as the run options say: the container files, and the
 * Docker Engines (one, several, or the managers of one swarm read as one source).
 *
 * @module
 */
import { DockerEngine, type EngineFailure, listEngines } from "../sources/docker.ts";
import { resolveEndpoints } from "../sources/docker_endpoint.ts";
import { denoFileReader, type FileReader, readContainerFiles } from "../sources/files.ts";
import { SwarmManagers } from "../sources/swarm_managers.ts";
import type { ContainerInfo } from "../core/types.ts";
import type { RunOptions } from "./run_options.ts";

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
  io: FileReader = denoFileReader,
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
