/**
 * lbsync: keeps a load balancer's backend list in step with Docker containers.
 *
 * The pure core is one chain: Docker API JSON -> {@link containersFromDockerApi} ->
 * {@link buildModel} -> {@link render}. Around it: {@link DockerEngine} (list and events),
 * {@link applyTargets} (write, back up, check, reload), {@link runOnce} and {@link watch}.
 *
 * @example
 * ```ts
 * import { buildModel, containersFromDockerApi, render, templates } from "./mod.ts";
 * const json = JSON.parse(await Deno.readTextFile("examples/containers.json"));
 * const { model, skipped } = buildModel(containersFromDockerApi(json));
 * console.log(render(templates.nginx, model));
 * for (const s of skipped) console.error(`${s.name}: ${s.reason}`);
 * ```
 *
 * @module
 */
export { containersFromDockerApi } from "./lib/core/input/docker_json.ts";
export { buildModel, DEFAULT_NAME_PREFIX } from "./lib/core/model/model.ts";
export {
  formatRouteAnswer,
  normalizeHost,
  normalizePath,
  type RouteAnswer,
  type RouteQuery,
  routeRequest,
} from "./lib/core/route_request.ts";
export { type ExplainRow, explainRows, type ExplainStatus } from "./lib/core/explain.ts";
export { GENERATION_HOST, readGeneration, stampGeneration } from "./lib/core/util/generation.ts";
export { parseTemplate, render, type RenderOptions } from "./lib/core/render/render.ts";
export { isTemplateName, type TemplateName, templates } from "./lib/core/render/templates.ts";
export { parseDuration } from "./lib/core/util/duration.ts";
export {
  containersFromSwarm,
  type SwarmListing,
  type SwarmOptions,
} from "./lib/core/input/swarm_json.ts";
export { type Heartbeat, parseHeartbeat } from "./lib/core/heartbeat.ts";
export {
  classifyEvent,
  type DockerEvent,
  type EventEffect,
} from "./lib/core/input/docker_events.ts";
export { type CommandResult } from "./lib/apply/command.ts";
export { type Companion, type RenderedTarget, type Target } from "./lib/apply/targets.ts";
export { type FileReader } from "./lib/sources/files.ts";

// I/O: Docker sources, apply, one pass, watch
export {
  DockerEngine,
  type DockerListing,
  type EngineFailure,
  listEngines,
  type ListOptions,
} from "./lib/sources/docker.ts";
export { type Quarantined } from "./lib/watch/quarantine.ts";
export {
  EngineClient,
  type EngineLimits,
  type EngineQuery,
  EngineRequestError,
} from "./lib/sources/engine_client.ts";
export {
  type DockerEndpoint,
  type EndpointSettings,
  resolveEndpoints,
  type TlsFiles,
} from "./lib/sources/docker_endpoint.ts";
export {
  type EventHandlers,
  followEvents,
  type FollowOptions,
} from "./lib/sources/event_stream.ts";
export {
  confirmGeneration,
  type ConfirmOutcome,
  type GenerationAddress,
  type GenerationReader,
} from "./lib/apply/confirm_reload.ts";
export {
  type ApplyReport,
  type ApplySettings,
  type ApplyTarget,
  applyTargets,
  type TargetReport,
} from "./lib/apply/apply.ts";
export {
  discover,
  type Discovery,
  type RunIo,
  runOnce,
  type RunOptions,
  type RunResult,
  type TargetOutcome,
} from "./lib/watch/run_once.ts";
export {
  type CycleReport,
  type StaticServiceSource,
  watch,
  type WatchActivity,
  type WatchDeps,
  Watcher,
  type WatchObserver,
  type WatchOptions,
} from "./lib/watch/watch.ts";
export { type Clock, systemClock, type TimerId } from "./lib/watch/clock.ts";
export type { StoreOptions } from "./lib/sources/store.ts";
export { StoreError } from "./lib/sources/etcd_client.ts";
export { dockerSource, type EngineSource } from "./lib/watch/engine_source.ts";
export type { FileWatcher } from "./lib/watch/file_watch.ts";
export {
  buildReadyModel,
  type BusyPortProbe,
  type Prober,
  type ProbeResult,
  ReadinessGate,
  type ReadyModelSettings,
} from "./lib/watch/readiness.ts";
export type { RuntimeApplier, RuntimeOutcome } from "./lib/apply/runtime.ts";
export { HaproxyRuntime, type RuntimeSettings } from "./lib/haproxy/runtime_apply.ts";
export {
  type ChangePlan,
  planServerChanges,
  type ServerChange,
  type ServerLine,
} from "./lib/haproxy/config_servers.ts";
export {
  ApplyError,
  type ApplyStep,
  ConfigError,
  describeHint,
  DockerError,
  LabelError,
  LbsyncError,
  RuntimeApiError,
  type SettingHint,
  type SettingName,
  type SkipCode,
  UsageError,
} from "./lib/core/errors.ts";
export type * from "./lib/core/types.ts";
