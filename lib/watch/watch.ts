/**
 * Watch mode: follow every engine's events, batch bursts by the heartbeat, re-list and
 * apply once per batch; resync on a timer and after every reconnect; re-render when a
 * template, the config file or a `--from-file` source changes. Bad input is reported and the
 * previous good state stays in force; the loop never dies of it.
 *
 * @module
 */
import { finalizeWatchOptions, type WatchSettings } from "./run_settings.ts";
import type { WatchOptions } from "./run_options.ts";
import { type ApplyReport, applyTargets } from "../apply/apply.ts";
import {
  applyOrQuarantine,
  type Quarantined,
  type QuarantineOutcome,
  type QuarantineState,
} from "./quarantine.ts";
import { classifyEvent, type EventEffect } from "../core/input/docker_events.ts";
import { ApplyError, type ApplyStep, errorMessage } from "../core/errors.ts";
import { HaproxyRuntime } from "../haproxy/runtime_apply.ts";
import { type Clock, systemClock, type TimerId } from "./clock.ts";
import { dockerSource, type EngineSource, swarmSource } from "./engine_source.ts";
import { type FileWatcher, watchFiles } from "./file_watch.ts";
import { type BusyPortProbe, type Prober, ReadinessGate } from "./readiness.ts";
import { retireDelay, Retirements } from "./retirements.ts";
import type { RunOptions } from "./run_options.ts";
import { dockerEngines, swarmManagersOf, usesEngines } from "./discovery.ts";
import {
  buildPassModel,
  busyPortProbe,
  type DirectoryInputs,
  probeTimeout,
  readDirectoryInputs,
} from "./model_pass.ts";
import { fileTargetsOf, notifierOf } from "./apply_pass.ts";
import { Scheduler, type WatchActivity, type Work } from "./scheduler.ts";
import { readContainerFiles } from "../sources/files.ts";
import {
  type LoadedTarget,
  loadTargets,
  type RenderedTarget,
  renderTargets,
} from "../apply/targets.ts";
import type { ContainerInfo, ModelResult, StaticService } from "../core/types.ts";
import { DEFAULTS } from "../core/defaults.ts";

export type { WatchActivity };

export type { WatchOptions } from "./run_options.ts";

/** One pass of the loop, for logs and metrics. */
export interface CycleReport {
  /** Why it ran: `start`, `events`, `resync`, `reconnect`, `files`, `SIGHUP`. */
  reasons: string[];
  /** Events in the batch. */
  events: number;
  /** The model built. */
  result: ModelResult;
  /** The default http port of the pass (`--listen`), where a request without a port goes. */
  listen: number;
  /** What the apply did. */
  apply: ApplyReport;
  /** Outputs that changed. */
  changed: string[];
  /** Duration of the pass in milliseconds. */
  ms: number;
  /** Services held at their last good form: the balancer refused their current one. */
  quarantined: Quarantined[];
}

/** What the watcher reports; every callback is optional. */
export interface WatchObserver {
  /** A pass of the loop built its model; the apply comes next. */
  built?(result: ModelResult): void;
  /** A pass of the loop finished (applied or not). */
  cycle?(report: CycleReport): void;
  /** Something failed; the watch goes on. */
  error?(message: string): void;
  /** Something worth a log line. */
  info?(message: string): void;
  /** An event arrived from `engine`. */
  event?(effect: EventEffect, engine: string): void;
  /** An engine's event stream connected or broke. */
  engine?(url: string, state: "connected" | "disconnected", detail?: string): void;
  /** Listing an engine succeeded (`failure` undefined) or failed. */
  listed?(url: string, failure?: string): void;
  /**
   * A pass applied nothing: `engines` were never listed, so the model would lack their
   * containers (never less than is known). The live config stays as it was.
   */
  waiting?(engines: { url: string; failure?: string }[]): void;
  /** A Swarm read through its managers (`url`) is now read through `manager`. */
  manager?(url: string, manager: string): void;
  /** An apply failed (check, write or reload); the live config stays. */
  applyFailed?(message: string, step?: ApplyStep): void;
  /** The balancer refused service `q.service`; the rest applied without it. */
  quarantined?(q: Quarantined): void;
  /** The loop is now idle, collecting a batch, or in a pass; `pending` events wait. */
  activity?(state: WatchActivity, pending: number): void;
}

/**
 * When to re-list a Swarm after a service or node event, in ms: tasks take from under a second
 * (scaling) to tens of seconds (a rolling update with a delay) to start and stop.
 */
export const SWARM_FOLLOW_UP_MS: readonly number[] = [500, 1000, 2000, 3000, 5000, 8000, 12000];

/**
 * The engines of `options` as sources: several Swarm managers are one source (one swarm),
 * other engines one source each.
 */
function engineSources(options: RunOptions): EngineSource[] {
  const managers = swarmManagersOf(options);
  return managers ? [swarmSource(managers)] : dockerEngines(options).map(dockerSource);
}

/** An observer that passes every report to each of `observers`. */
export function fanOut(...observers: WatchObserver[]): WatchObserver {
  return {
    built: (r) => observers.forEach((o) => o.built?.(r)),
    cycle: (r) => observers.forEach((o) => o.cycle?.(r)),
    error: (m) => observers.forEach((o) => o.error?.(m)),
    info: (m) => observers.forEach((o) => o.info?.(m)),
    event: (e, engine) => observers.forEach((o) => o.event?.(e, engine)),
    engine: (url, state, detail) => observers.forEach((o) => o.engine?.(url, state, detail)),
    manager: (url, manager) => observers.forEach((o) => o.manager?.(url, manager)),
    listed: (url, failure) => observers.forEach((o) => o.listed?.(url, failure)),
    waiting: (engines) => observers.forEach((o) => o.waiting?.(engines)),
    applyFailed: (m, step) => observers.forEach((o) => o.applyFailed?.(m, step)),
    quarantined: (q) => observers.forEach((o) => o.quarantined?.(q)),
    activity: (state, n) => observers.forEach((o) => o.activity?.(state, n)),
  };
}

/**
 * Static services kept outside the config file (`--store`): read in full, then followed; they
 * take the place of the config file's `services`.
 */
export interface StaticServiceSource {
  /** Where they live, for messages. */
  readonly url: string;
  /** The services in force with a warning per value skipped; `undefined` before the first read. */
  current(): { services: StaticService[]; warnings: string[] } | undefined;
  /** Why the source cannot be read now, or `undefined`. */
  failure(): string | undefined;
  /** Reads and follows until `signal` aborts, calling `changed` when the services changed. */
  follow(changed: () => void, signal: AbortSignal): Promise<void>;
  /** Reads everything again now (a resync, SIGHUP), calling `changed` when the services changed. */
  refresh(): Promise<void>;
}

/**
 * What a {@link Watcher} works with, each replaceable in tests: the clock, the engines, the
 * readiness probes, the file watcher and the busy-port probe.
 */
export interface WatchDeps {
  /** Time and timers, default the system's. */
  clock?: Clock;
  /** The engines, default the Docker engines of the options (none with only `fromFiles`). */
  engines?: EngineSource[];
  /** Readiness probes, default real HTTP GETs and TCP connects. */
  prober?: Prober;
  /** Calls back on changes of the given files until the signal aborts. */
  watchFiles?: FileWatcher;
  /** Which listen ports other processes hold, default probed on this machine. */
  busyPorts?: BusyPortProbe;
  /** The static services, when a store holds them (`--store`) rather than the config file. */
  store?: StaticServiceSource;
}

/**
 * How far after a summary's `Created` second its create event may come: the second itself,
 * and the next one (the event is sent a few ms after the creation, across a second at times).
 */
const CREATE_EVENT_SLACK_MS = 2_000;

/** Re-probe containers that are not ready yet this often, for `readyTimeoutMs`. */
const READINESS_RETRY_MS = 500;

/** Re-list an engine whose listing failed after this long, doubled up to the maximum. */
export const LIST_RETRY_MS = Object.freeze({ first: 500, max: 10_000 });

/**
 * The watch loop in three parts: the engines and files (sources) tell what changed; a
 * {@link Scheduler} batches it by the heartbeat; each pass (this class) re-lists, builds,
 * renders, checks and reloads. `run()` until its signal aborts.
 */
export class Watcher {
  #options: WatchSettings;
  readonly #observer: WatchObserver;
  readonly #reloadOptions?: () => Promise<WatchOptions>;
  readonly #deps: WatchDeps;
  readonly #clock: Clock;
  readonly #engines: EngineSource[];
  /** The manager in use of each Swarm read through several managers. */
  readonly #managers = new Map<string, string>();
  readonly #scheduler: Scheduler;
  /** The last listing of each engine that answered at least once. */
  readonly #containers = new Map<string, ContainerInfo[]>();
  /** Why each engine's last listing failed, and when it is re-listed. */
  readonly #listFailures = new Map<string, { message: string; retryMs: number; timer: TimerId }>();
  readonly #stopping = new Set<string>();
  /** Creation times from `create` events, in ms: summaries only give whole seconds. */
  readonly #createdAt = new Map<string, number>();
  #fileContainers: ContainerInfo[] = [];
  #fileIds = new Set<string>();
  #lastDirectories: DirectoryInputs = { options: {}, warnings: [] };
  #targets: LoadedTarget[] = [];
  #goodTargets: LoadedTarget[] = [];
  #stopped = false;
  /** The last good apply and the services held out of the config. */
  readonly #quarantine: QuarantineState = { held: new Map() };
  readonly #gate: ReadinessGate;
  readonly #haproxy: HaproxyRuntime;
  /** When each not-ready container was first seen, to retry its probe promptly for a while. */
  readonly #notReadySince = new Map<string, number>();
  #readinessTimer: TimerId | undefined;
  #resyncTimer: TimerId | undefined;
  /** Pending follow-up re-lists of each Swarm source. */
  readonly #followUps = new Map<string, TimerId[]>();
  /** Retired containers and the timers that will stop them. */
  readonly #retirements: Retirements;

  /**
   * A watcher; nothing runs until {@link Watcher.run}.
   *
   * @param options what to watch and render
   * @param observer receives reports
   * @param reloadOptions re-reads the settings (the config file) on change and on SIGHUP
   * @param deps the clock, engines and probes, when not the real ones (tests)
   */
  constructor(
    options: WatchOptions,
    observer: WatchObserver = {},
    reloadOptions?: () => Promise<WatchOptions>,
    deps: WatchDeps = {},
  ) {
    this.#options = finalizeWatchOptions(options);
    this.#observer = observer;
    this.#reloadOptions = reloadOptions;
    this.#deps = deps;
    this.#clock = deps.clock ?? systemClock;
    const useDocker = usesEngines(options);
    this.#engines = deps.engines ?? (useDocker ? engineSources(this.#options) : []);
    this.#gate = new ReadinessGate({ probeTimeoutMs: probeTimeout(this.#options) }, deps.prober);
    this.#retirements = new Retirements(observer, this.#clock);
    this.#haproxy = new HaproxyRuntime({
      drainTimeoutMs: this.#options.drainTimeoutMs,
      onError: (message) => this.#observer.error?.(message),
    });
    this.#scheduler = new Scheduler({
      clock: this.#clock,
      heartbeat: () => this.#options.heartbeat,
      pass: (work) => this.#pass(work),
      error: (message) => this.#observer.error?.(message),
      activity: (state, pending) => this.#observer.activity?.(state, pending),
    });
  }

  /**
   * Runs until `signal` aborts, then finishes the apply in progress and returns.
   *
   * @throws {ConfigError} when the templates cannot be loaded at start
   */
  async run(signal: AbortSignal): Promise<void> {
    this.#targets = this.#goodTargets = await loadTargets(this.#options.targets ?? []);
    this.#scheduler.now({ files: true, reason: "start", engines: this.engineUrls });
    const followers = this.#engines.map((engine) => this.#follow(engine, signal));
    const store = this.#deps.store;
    if (store) {
      followers.push(store.follow(() => this.#scheduler.now({ reason: "store" }), signal));
    }
    (this.#deps.watchFiles ?? watchFiles)(
      this.#watchedFiles(),
      (path) => this.#onFileChange(path),
      signal,
    );
    this.#scheduleResync();

    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    this.#stopped = true;
    this.#clock.clearTimeout(this.#resyncTimer);
    for (const timers of this.#followUps.values()) {
      timers.forEach((t) => this.#clock.clearTimeout(t));
    }
    this.#clock.clearTimeout(this.#readinessTimer);
    for (const f of this.#listFailures.values()) this.#clock.clearTimeout(f.timer);
    this.#retirements.cancelAll();
    await Promise.allSettled(followers);
    await this.#scheduler.stop();
  }

  /** The endpoints watched. */
  get engineUrls(): string[] {
    return this.#engines.map((e) => e.url);
  }

  /** A full re-list of every engine now (and, with `reread`, of files and templates too). */
  resync(reason: string, reread: boolean): void {
    this.#deps.store?.refresh(); // a missed watch event is caught by a full read too
    this.#scheduler.now({
      reason,
      engines: this.engineUrls,
      files: true,
      templates: reread,
      config: reread,
    });
  }

  /**
   * Re-reads the config file and templates and applies now (the admin API's changes).
   * Resolves when that pass is done: with the reason when the settings could not be read
   * or the apply failed, else `undefined`.
   */
  refresh(reason: string): Promise<string | undefined> {
    const done = this.#scheduler.nextPass();
    this.#scheduler.now({ reason, files: true, templates: true, config: true });
    return done;
  }

  #follow(engine: EngineSource, signal: AbortSignal): Promise<void> {
    return engine.follow({
      onEvent: (event) => this.#onEvent(classifyEvent(event), engine),
      onConnected: () => {
        this.#observer.engine?.(engine.url, "connected");
        this.#noteManager(engine);
        this.#scheduler.now({ engines: [engine.url], reason: "reconnect" });
      },
      onDisconnected: (reason, retryInMs) => {
        this.#observer.engine?.(engine.url, "disconnected", reason);
        this.#observer.error?.(
          `Event stream of ${engine.url} lost: ${reason}; retrying in ${retryInMs} ms (keeping the last config)`,
        );
      },
    }, { since: this.#options.since, signal });
  }

  /** Tells the observer when a Swarm's manager in use changed. */
  #noteManager(engine: EngineSource): void {
    const manager = engine.inUse?.();
    if (manager === undefined || this.#managers.get(engine.url) === manager) return;
    this.#managers.set(engine.url, manager);
    this.#observer.manager?.(engine.url, manager);
  }

  /** A resync every `resyncMs` (default 60 s; 0: never), read anew each time. */
  #scheduleResync(): void {
    const every = this.#options.resyncMs;
    if (every <= 0 || this.#stopped) return;
    this.#resyncTimer = this.#clock.setTimeout(() => {
      this.resync("resync", false);
      this.#scheduleResync();
    }, every);
  }

  #onEvent(effect: EventEffect, engine: EngineSource): void {
    this.#observer.event?.(effect, engine.url);
    if (effect.kind === "create" && effect.timeMs > 0) {
      this.#createdAt.set(effect.containerId, effect.timeMs);
    }
    if (effect.kind === "destroy") {
      this.#createdAt.delete(effect.containerId);
      engine.forget(effect.containerId);
    }
    if (!effect.relevant) return;
    if (effect.settled) this.#stopping.delete(effect.containerId);
    if (effect.stopping) this.#stopping.add(effect.containerId);
    this.#scheduler.event(engine.url, effect.stopping);
    if (effect.swarmChange) this.#followUp(engine.url);
  }

  /**
   * After a Swarm service or node change, re-lists the engine at {@link SWARM_FOLLOW_UP_MS}:
   * its tasks start and stop for seconds after the event, and Swarm tells nothing of tasks. A
   * newer change starts the sequence again.
   */
  #followUp(url: string): void {
    for (const timer of this.#followUps.get(url) ?? []) this.#clock.clearTimeout(timer);
    this.#followUps.set(
      url,
      SWARM_FOLLOW_UP_MS.map((ms) =>
        this.#clock.setTimeout(
          () => this.#scheduler.batch({ engines: [url], reason: "swarm follow-up" }),
          ms,
        )
      ),
    );
  }

  #onFileChange(path: string): void {
    const o = this.#options;
    const inDirectory = (dir: string | undefined) =>
      dir !== undefined && path.startsWith(`${absolute(dir)!.replace(/\/+$/, "")}/`);
    if (inDirectory(o.certDir)) {
      this.#scheduler.batch({ reason: "certificates" }); // every pass reads the directory
    } else if (
      inDirectory(o.htpasswdDir) || inDirectory(o.vhostDir) ||
      [o.proxyConf, o.networkInternalConf, o.errorPage].includes(path)
    ) {
      this.#scheduler.batch({ reason: "operator files" }); // every pass reads them
    } else if (path === absolute(o.configPath)) {
      this.#scheduler.batch({ config: true, templates: true, reason: "files" });
    } else if ((o.fromFiles ?? []).some((f) => absolute(f) === path)) {
      this.#scheduler.batch({ files: true, reason: "files" });
    } else this.#scheduler.batch({ templates: true, reason: "files" });
  }

  #watchedFiles(): string[] {
    const o = this.#options;
    const templates = (o.targets ?? []).map((t) => t.template).filter((t) =>
      t.includes("/") || t.includes(".")
    );
    const files = (o.fromFiles ?? []).filter((f) => f !== "-");
    const dirs = [o.certDir, o.htpasswdDir, o.vhostDir].filter((d) => d !== undefined)
      .map((d) => `${d.replace(/\/+$/, "")}/`);
    const operatorFiles = [o.proxyConf, o.networkInternalConf, o.errorPage].filter((f) =>
      f !== undefined
    );
    return [
      ...templates,
      ...files,
      ...(o.configPath ? [o.configPath] : []),
      ...dirs,
      ...operatorFiles,
    ];
  }

  /** One pass; resolves with why it failed to apply, if it did. */
  async #pass(work: Work): Promise<string | undefined> {
    const started = performance.now();
    const failure = await this.#rereadSettings(work);
    await this.#rereadTemplates(work);
    await this.#relist(work);
    await this.#rereadFiles(work);
    const unlisted = this.#unlisted();
    if (unlisted.length > 0) {
      this.#observer.waiting?.(unlisted);
      return `Not applying: ${describeUnlisted(unlisted)}`;
    }
    const store = this.#deps.store;
    if (store && store.current() === undefined) {
      const why = store.failure();
      return `Not applying: the store ${store.url} has not been read yet${
        why ? ` (${why})` : ""
      }; the live config stays as it was`;
    }
    const { result: built, containers, build } = await this.#build();
    this.#followReadiness(built);
    this.#scheduleRetirements(built, containers);
    const outcome = await this.#apply(containers, built, build);
    if (typeof outcome === "string") return outcome;
    const { result, report: apply, quarantined } = outcome;
    if (outcome.added.length > 0) this.#observer.built?.(result); // the model in force after tries
    this.#observer.cycle?.({
      reasons: [...work.reasons],
      events: work.events,
      result,
      listen: this.#options.listen,
      apply,
      changed: apply.targets.filter((t) => t.changed).map((t) => t.output),
      ms: Math.round(performance.now() - started),
      quarantined,
    });
    return failure;
  }

  /** The config file, when it changed; a bad one keeps the previous settings. */
  async #rereadSettings(work: Work): Promise<string | undefined> {
    if (!work.config || !this.#reloadOptions) return undefined;
    try {
      this.#options = finalizeWatchOptions(await this.#reloadOptions());
      work.templates = true;
      work.files = true;
      return undefined;
    } catch (error) {
      const failure = errorMessage(error);
      this.#observer.error?.(`Keeping the previous settings: ${failure}`);
      return failure;
    }
  }

  async #rereadTemplates(work: Work): Promise<void> {
    if (!work.templates) return;
    try {
      this.#targets = await loadTargets(this.#options.targets ?? []);
    } catch (error) {
      this.#observer.error?.(`Keeping the previous templates: ${errorMessage(error)}`);
    }
  }

  /**
   * Re-lists the engines `work` names. One that fails keeps its last known containers and is
   * re-listed after a backoff ({@link LIST_RETRY_MS}).
   */
  async #relist(work: Work): Promise<void> {
    await Promise.all(
      this.#engines.filter((e) => work.engines.has(e.url)).map(async (engine) => {
        try {
          const name = this.#engines.length > 1 ? engine.url : "";
          this.#containers.set(engine.url, await engine.list(name));
          this.#clock.clearTimeout(this.#listFailures.get(engine.url)?.timer);
          this.#listFailures.delete(engine.url);
          this.#observer.listed?.(engine.url);
          this.#noteManager(engine);
        } catch (error) {
          this.#listFailed(engine.url, errorMessage(error));
        }
      }),
    );
  }

  #listFailed(url: string, message: string): void {
    const previous = this.#listFailures.get(url);
    this.#clock.clearTimeout(previous?.timer);
    const retryMs = previous
      ? Math.min(previous.retryMs * 2, LIST_RETRY_MS.max)
      : LIST_RETRY_MS.first;
    const timer = this.#stopped ? undefined : this.#clock.setTimeout(
      () => this.#scheduler.now({ engines: [url], reason: "list retry" }),
      retryMs,
    );
    this.#listFailures.set(url, { message, retryMs, timer });
    this.#observer.listed?.(url, message);
    const keeping = this.#containers.has(url)
      ? "keeping its last known containers"
      : "nothing is applied until it answers";
    this.#observer.error?.(`${message} (${keeping}; listing again in ${retryMs} ms)`);
  }

  /**
   * Engines never listed whose absence would make the model less than is known: all of them,
   * or with `allowPartial`, all of them only when none was listed.
   */
  #unlisted(): { url: string; failure?: string }[] {
    const missing = this.#engines.filter((e) => !this.#containers.has(e.url));
    const partialOk = this.#options.allowPartial && missing.length < this.#engines.length;
    if (missing.length === 0 || partialOk) return [];
    return missing.map((e) => ({ url: e.url, failure: this.#listFailures.get(e.url)?.message }));
  }

  async #rereadFiles(work: Work): Promise<void> {
    if (!work.files || !this.#options.fromFiles?.length) return;
    try {
      this.#fileContainers = await readContainerFiles(this.#options.fromFiles);
      this.#fileIds = new Set(this.#fileContainers.map((c) => c.id));
    } catch (error) {
      this.#observer.error?.(`${errorMessage(error)} (keeping its last contents)`);
    }
  }

  /**
   * The model of every known container, with readiness and the ports others hold; `build`
   * makes the model of another list of containers the same way (the quarantine's tries).
   */
  async #build(): Promise<
    {
      result: ModelResult;
      containers: ContainerInfo[];
      build: (containers: ContainerInfo[]) => Promise<ModelResult>;
    }
  > {
    const containers = [...this.#fileContainers, ...[...this.#containers.values()].flat()]
      .map((c) => this.#refine(c));
    const inputs = {
      busyPorts: this.#deps.busyPorts ?? await busyPortProbe(this.#targets, this.#options),
      directories: await this.#directories(),
      stored: this.#deps.store?.current(),
    };
    const readiness = { gate: this.#gate, fromFiles: this.#fileIds, clock: this.#clock };
    const build = (list: ContainerInfo[]) => buildPassModel(list, this.#options, inputs, readiness);
    return { result: await build(containers), containers, build };
  }

  /** The operator's directories now; one that cannot be read keeps what was last read. */
  async #directories(): Promise<DirectoryInputs> {
    try {
      this.#lastDirectories = await readDirectoryInputs(this.#options);
    } catch (error) {
      this.#observer.error?.(`${errorMessage(error)} (keeping what was last read)`);
    }
    return this.#lastDirectories;
  }

  #scheduleRetirements(result: ModelResult, containers: ContainerInfo[]): void {
    const retireAfter = retireDelay(this.#options);
    if (retireAfter === undefined) return;
    this.#retirements.schedule(result, containers, this.#engines, retireAfter);
  }

  /**
   * Renders, writes, checks and reloads; when the balancer refuses the candidate, the services
   * responsible are quarantined and the rest applies. A failure is reported and returned as
   * text.
   */
  async #apply(
    containers: ContainerInfo[],
    result: ModelResult,
    build: (containers: ContainerInfo[]) => Promise<ModelResult>,
  ): Promise<QuarantineOutcome | string> {
    try {
      const outcome = await applyOrQuarantine(containers, result, this.#quarantine, {
        build,
        apply: (candidate, verify) => {
          this.#observer.built?.(candidate);
          return applyTargets(fileTargetsOf(this.#render(candidate), this.#options), {
            ...this.#options.apply,
            notify: notifierOf(this.#options),
            haproxy: this.#haproxy,
            checkUnchanged: verify,
          });
        },
      });
      for (const q of outcome.added) this.#observer.quarantined?.(q);
      return outcome;
    } catch (error) {
      const failure = errorMessage(error);
      this.#observer.error?.(`${failure} (will retry at the next change)`);
      this.#observer.applyFailed?.(failure, error instanceof ApplyError ? error.step : undefined);
      return failure;
    }
  }

  /**
   * A container as the model should see it: `stopping` once its stop began, and its creation
   * time to the millisecond when its `create` event was seen (the oldest container's labels
   * and rollover depend on the order).
   */
  #refine(c: ContainerInfo): ContainerInfo {
    const created = this.#createdAt.get(c.id);
    // the summary's whole second is the creation's; the create event follows it by a few ms,
    // into the next second at times: it refines the summary's time when it lies within that
    const precise = created !== undefined && created >= c.created &&
      created < c.created + CREATE_EVENT_SLACK_MS;
    const stopping = this.#stopping.has(c.id) && c.state === "running";
    if (!precise && !stopping) return c;
    return { ...c, created: precise ? created : c.created, state: stopping ? "stopping" : c.state };
  }

  /**
   * Containers that are not ready yet are probed again every 500 ms for `readyTimeoutMs`
   * after they were first seen, then at each batch and resync.
   */
  #followReadiness(result: ModelResult): void {
    const now = this.#clock.now();
    const waiting = new Set(
      result.skipped.filter((s) => s.code === "not-ready").map((s) => s.id),
    );
    for (const id of this.#notReadySince.keys()) {
      if (!waiting.has(id)) this.#notReadySince.delete(id);
    }
    for (const id of waiting) if (!this.#notReadySince.has(id)) this.#notReadySince.set(id, now);
    const limit = this.#options.readyTimeoutMs;
    const soon = [...this.#notReadySince.values()].some((since) => now - since < limit);
    this.#clock.clearTimeout(this.#readinessTimer);
    if (!soon || this.#stopped) return;
    this.#readinessTimer = this.#clock.setTimeout(
      () => this.#scheduler.now({ reason: "readiness" }),
      READINESS_RETRY_MS,
    );
  }

  /** Renders with the current templates; a template that fails falls back to the last good one. */
  #render(result: ModelResult): RenderedTarget[] {
    try {
      const rendered = renderTargets(this.#targets, result.model);
      this.#goodTargets = this.#targets;
      return rendered;
    } catch (error) {
      this.#observer.error?.(`Keeping the previous templates: ${errorMessage(error)}`);
      this.#targets = this.#goodTargets;
      return renderTargets(this.#goodTargets, result.model);
    }
  }
}

/**
 * The longest a pass can take when every step keeps its bound: the engine requests, the
 * readiness probes, the output locks, and per target a check and a reload, then the reload's
 * confirmation. A pass that runs longer is stuck.
 */
export function passBoundMs(options: WatchOptions): number {
  const apply = options.apply ?? {};
  const targets = Math.max(1, options.targets?.length ?? 0);
  return (options.dockerTimeoutMs ?? DEFAULTS.dockerTimeoutMs) +
    DEFAULTS.probeTimeoutMs +
    (apply.lockTimeoutMs ?? DEFAULTS.lockTimeoutMs) +
    targets * 2 * (apply.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs) +
    (apply.confirmTimeoutMs ?? DEFAULTS.confirmTimeoutMs);
}

/** `unix:///x.sock was never listed (why)`, for each engine. */
export function describeUnlisted(engines: { url: string; failure?: string }[]): string {
  const each = engines.map((e) =>
    `${e.url} has not been listed yet${e.failure ? ` (${e.failure})` : ""}`
  );
  return `${each.join("; ")}; the live config stays as it was`;
}

function absolute(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`.replace(/\/\.\//g, "/");
}

/**
 * Runs watch mode until `signal` aborts.
 *
 * @example
 * ```ts
 * import { watch } from "./watch.ts";
 * const stop = new AbortController();
 * Deno.addSignalListener("SIGTERM", () => stop.abort());
 * await watch({ targets: [{ template: "nginx", output: "/etc/nginx/conf.d/lbsync.conf", reload: "nginx -s reload" }] },
 *   { signal: stop.signal });
 * ```
 */
export function watch(
  options: WatchOptions,
  control: { signal: AbortSignal; observer?: WatchObserver },
): Promise<void> {
  return new Watcher(options, control.observer).run(control.signal);
}
