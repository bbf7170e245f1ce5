/**
 * Watch mode: follow every engine's events, batch bursts by the heartbeat, re-list and
 * apply once per batch; resync on a timer and after every reconnect; re-render when a
 * template, the config file or a `--from-file` source changes. Bad input is reported and the
 * previous good state stays in force; the loop never dies of it.
 *
 * @module
 */
import { type ApplyReport, applyTargets } from "../apply/apply.ts";
import { classifyEvent, type EventEffect } from "../core/input/docker_events.ts";
import { ApplyError, type ApplyStep, errorMessage } from "../core/errors.ts";
import { watchFiles } from "./file_watch.ts";
import {
  addEvent,
  type Batch,
  closesAt,
  DEFAULT_HEARTBEAT,
  type Heartbeat,
} from "../core/heartbeat.ts";
import { HaproxyRuntime } from "../haproxy/runtime_apply.ts";
import { buildReadyModel, ReadinessGate } from "./readiness.ts";
import { retireDelay, Retirements } from "./retirements.ts";
import {
  applyTargetsOf,
  dockerEngines,
  notifier,
  portProbeOf,
  probeTimeout,
  type RunOptions,
} from "./run_once.ts";
import type { DockerEngine } from "../sources/docker.ts";
import { followEvents } from "../sources/event_stream.ts";
import { readContainerFiles } from "../sources/files.ts";
import {
  type LoadedTarget,
  loadTargets,
  type RenderedTarget,
  renderTargets,
} from "../apply/targets.ts";
import type { ContainerInfo, ModelResult } from "../core/types.ts";

/** Settings of watch mode. */
export interface WatchOptions extends RunOptions {
  /** Batching, default 500ms:2s. */
  heartbeat?: Heartbeat;
  /** Full re-list every this many milliseconds, default 60 s; 0 disables. */
  resyncMs?: number;
  /** Start the event streams at this time (Docker `since`). */
  since?: string;
  /** The config file, watched and re-read through `reloadOptions`. */
  configPath?: string;
  /** Stop containers retired by a rollover after this many milliseconds (off when unset). */
  retireAfterMs?: number;
  /** `--status-listen`: where the CLI serves /healthz, /status, /metrics. */
  statusListen?: string;
  /** `--admin-listen`: where the CLI serves the admin API (needs `configPath`). */
  adminListen?: string;
  /** `--nginx-dns-public`: the DNS server may bind an address off loopback. */
  nginxDnsPublic?: boolean;
  /** `--admin-token-file`: the file holding the admin API's bearer token. */
  adminTokenFile?: string;
}

/** One pass of the loop, for logs and metrics. */
export interface CycleReport {
  /** Why it ran: `start`, `events`, `resync`, `reconnect`, `files`, `SIGHUP`. */
  reasons: string[];
  /** Events in the batch. */
  events: number;
  /** The model built. */
  result: ModelResult;
  /** What the apply did. */
  apply: ApplyReport;
  /** Outputs that changed. */
  changed: string[];
  /** Duration of the pass in milliseconds. */
  ms: number;
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
  /** An apply failed (check, write or reload); the live config stays. */
  applyFailed?(message: string, step?: ApplyStep): void;
  /** The loop is now idle, collecting a batch, or in a pass; `pending` events wait. */
  activity?(state: WatchActivity, pending: number): void;
}

/** What the loop is doing: nothing, collecting a batch, or a pass (render, check, reload). */
export type WatchActivity = "idle" | "batching" | "applying";

/** An observer that passes every report to each of `observers`. */
export function fanOut(...observers: WatchObserver[]): WatchObserver {
  return {
    built: (r) => observers.forEach((o) => o.built?.(r)),
    cycle: (r) => observers.forEach((o) => o.cycle?.(r)),
    error: (m) => observers.forEach((o) => o.error?.(m)),
    info: (m) => observers.forEach((o) => o.info?.(m)),
    event: (e, engine) => observers.forEach((o) => o.event?.(e, engine)),
    engine: (url, state, detail) => observers.forEach((o) => o.engine?.(url, state, detail)),
    applyFailed: (m, step) => observers.forEach((o) => o.applyFailed?.(m, step)),
    activity: (state, n) => observers.forEach((o) => o.activity?.(state, n)),
  };
}

interface Pending {
  engines: Set<string>;
  files: boolean;
  templates: boolean;
  config: boolean;
  reasons: Set<string>;
  events: number;
}

const fresh = (): Pending => ({
  engines: new Set(),
  files: false,
  templates: false,
  config: false,
  reasons: new Set(),
  events: 0,
});

/** The watch loop. `run()` until its signal aborts. */
export class Watcher {
  #options: WatchOptions;
  readonly #observer: WatchObserver;
  readonly #reloadOptions?: () => Promise<WatchOptions>;
  readonly #engines: DockerEngine[];
  readonly #containers = new Map<string, ContainerInfo[]>();
  readonly #stopping = new Set<string>();
  /** Creation times from `create` events, in ms: summaries only give whole seconds. */
  readonly #createdAt = new Map<string, number>();
  #fileContainers: ContainerInfo[] = [];
  #targets: LoadedTarget[] = [];
  #goodTargets: LoadedTarget[] = [];
  #pending = fresh();
  #batch: Batch | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #lastCycleAt = 0;
  #fileIds = new Set<string>();
  readonly #gate: ReadinessGate;
  readonly #haproxy: HaproxyRuntime;
  /** When each not-ready container was first seen, to retry its probe promptly for a while. */
  readonly #notReadySince = new Map<string, number>();
  #readinessTimer: ReturnType<typeof setTimeout> | undefined;
  /** Callers of {@link Watcher.refresh} waiting for the next pass. */
  #waiters: ((failure: string | undefined) => void)[] = [];
  /** Retired containers and the timers that will stop them. */
  readonly #retirements: Retirements;

  /**
   * A watcher; nothing runs until {@link Watcher.run}.
   *
   * @param options what to watch and render
   * @param observer receives reports
   * @param reloadOptions re-reads the settings (the config file) on change and on SIGHUP
   */
  constructor(
    options: WatchOptions,
    observer: WatchObserver = {},
    reloadOptions?: () => Promise<WatchOptions>,
  ) {
    this.#options = options;
    this.#observer = observer;
    this.#reloadOptions = reloadOptions;
    const useDocker = (options.docker?.urls?.length ?? 0) > 0 || !options.fromFiles?.length;
    this.#engines = useDocker ? dockerEngines(options) : [];
    this.#gate = new ReadinessGate({ probeTimeoutMs: probeTimeout(options) });
    this.#retirements = new Retirements(observer);
    this.#haproxy = new HaproxyRuntime({
      drainTimeoutMs: options.drainTimeoutMs,
      onError: (message) => this.#observer.error?.(message),
    });
  }

  /**
   * Runs until `signal` aborts, then finishes the apply in progress and returns.
   *
   * @throws {ConfigError} when the templates cannot be loaded at start
   */
  async run(signal: AbortSignal): Promise<void> {
    this.#targets = this.#goodTargets = await loadTargets(this.#options.targets ?? []);
    this.#mark({ files: true, reason: "start", engines: this.#engines.map((e) => e.endpoint.url) });
    this.#kick();

    const followers = this.#engines.map((engine) =>
      followEvents(engine, {
        onEvent: (event) => this.#onEvent(classifyEvent(event), engine.endpoint.url),
        onConnected: () => {
          this.#observer.engine?.(engine.endpoint.url, "connected");
          this.#mark({ engines: [engine.endpoint.url], reason: "reconnect" });
          this.#kick();
        },
        onDisconnected: (reason, retryInMs) => {
          this.#observer.engine?.(engine.endpoint.url, "disconnected", reason);
          this.#observer.error?.(
            `Event stream of ${engine.endpoint.url} lost: ${reason}; retrying in ${retryInMs} ms (keeping the last config)`,
          );
        },
      }, { since: this.#options.since, signal })
    );

    watchFiles(this.#watchedFiles(), (path) => this.#onFileChange(path), signal);
    const resync = this.#options.resyncMs ?? 60_000;
    const interval = resync > 0
      ? setInterval(() => this.resync("resync", false), resync)
      : undefined;

    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    this.#stopped = true;
    clearInterval(interval);
    clearTimeout(this.#timer);
    clearTimeout(this.#readinessTimer);
    this.#retirements.cancelAll();
    await Promise.allSettled(followers);
    await this.#running;
  }

  /** The endpoints watched. */
  get engineUrls(): string[] {
    return this.#engines.map((e) => e.endpoint.url);
  }

  /** A full re-list of every engine now (and, with `reread`, of files and templates too). */
  resync(reason: string, reread: boolean): void {
    this.#mark({
      reason,
      engines: this.#engines.map((e) => e.endpoint.url),
      files: true,
      templates: reread,
      config: reread,
    });
    this.#kick();
  }

  /**
   * Re-reads the config file and templates and applies now (the admin API's changes).
   * Resolves when that pass is done: with the reason when the settings could not be read
   * or the apply failed, else `undefined`.
   */
  refresh(reason: string): Promise<string | undefined> {
    const done = new Promise<string | undefined>((resolve) => this.#waiters.push(resolve));
    this.#mark({ reason, files: true, templates: true, config: true });
    this.#kick();
    return done;
  }

  #onEvent(effect: EventEffect, engine: string): void {
    this.#observer.event?.(effect, engine);
    if (effect.kind === "create" && effect.timeMs > 0) {
      this.#createdAt.set(effect.containerId, effect.timeMs);
    }
    if (effect.kind === "destroy") {
      this.#createdAt.delete(effect.containerId);
      this.#engines.find((e) => e.endpoint.url === engine)?.forget(effect.containerId);
    }
    if (!effect.relevant) return;
    if (effect.settled) this.#stopping.delete(effect.containerId);
    this.#mark({ engines: [engine], reason: "events" });
    this.#pending.events += 1;
    if (effect.stopping) this.#stopping.add(effect.containerId);
    // Drain: a container that begins to stop leaves the pool now, not after the heartbeat,
    // unless a pass ran less than MAX ago: in a storm of stops the heartbeat holds, so
    // there is still at most one apply per MAX.
    const heartbeat = this.#options.heartbeat ?? DEFAULT_HEARTBEAT;
    if (effect.stopping && Date.now() - this.#lastCycleAt >= heartbeat.maxMs) {
      this.#closeBatchNow();
      return;
    }
    this.#startOrExtendBatch();
  }

  #closeBatchNow(): void {
    clearTimeout(this.#timer);
    this.#batch = undefined;
    this.#kick();
  }

  #onFileChange(path: string): void {
    const o = this.#options;
    if (path === absolute(o.configPath)) {
      this.#mark({ config: true, templates: true, reason: "files" });
    } else if ((o.fromFiles ?? []).some((f) => absolute(f) === path)) {
      this.#mark({ files: true, reason: "files" });
    } else this.#mark({ templates: true, reason: "files" });
    this.#startOrExtendBatch();
  }

  #watchedFiles(): string[] {
    const o = this.#options;
    const templates = (o.targets ?? []).map((t) => t.template).filter((t) =>
      t.includes("/") || t.includes(".")
    );
    const files = (o.fromFiles ?? []).filter((f) => f !== "-");
    return [...templates, ...files, ...(o.configPath ? [o.configPath] : [])];
  }

  #mark(
    work: {
      engines?: string[];
      files?: boolean;
      templates?: boolean;
      config?: boolean;
      reason: string;
    },
  ): void {
    for (const url of work.engines ?? []) this.#pending.engines.add(url);
    if (work.files) this.#pending.files = true;
    if (work.templates) this.#pending.templates = true;
    if (work.config) this.#pending.config = true;
    this.#pending.reasons.add(work.reason);
  }

  /** Opens a batch or extends it; it closes by the heartbeat rule. */
  #startOrExtendBatch(): void {
    if (this.#stopped) return;
    const now = Date.now();
    this.#batch = addEvent(this.#batch, now);
    clearTimeout(this.#timer);
    const delay = Math.max(
      0,
      closesAt(this.#batch, this.#options.heartbeat ?? DEFAULT_HEARTBEAT) - now,
    );
    this.#timer = setTimeout(() => {
      this.#batch = undefined;
      this.#kick();
    }, delay);
    this.#reportActivity();
  }

  /** Runs a cycle now, or right after the one in progress. */
  #kick(): void {
    if (this.#stopped && this.#running) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#cycle()
      .catch((error) => this.#observer.error?.(errorMessage(error)))
      .finally(() => {
        this.#running = undefined;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          this.#kick();
        }
        this.#reportActivity();
      });
    this.#reportActivity();
  }

  #reportActivity(): void {
    const state = this.#running
      ? "applying"
      : this.#batch || this.#pending.reasons.size > 0
      ? "batching"
      : "idle";
    this.#observer.activity?.(state, this.#pending.events);
  }

  async #cycle(): Promise<void> {
    if (this.#batch) return; // a batch is still open: its close runs the cycle
    const waiters = this.#waiters.splice(0);
    let failure: string | undefined;
    try {
      failure = await this.#pass();
    } catch (error) {
      failure = errorMessage(error);
      throw error;
    } finally {
      for (const resolve of waiters) resolve(failure);
    }
  }

  /** One pass; resolves with why it failed to apply, if it did. */
  async #pass(): Promise<string | undefined> {
    const work = this.#pending;
    this.#pending = fresh();
    if (work.reasons.size === 0) return undefined;
    let failure: string | undefined;
    const started = performance.now();
    this.#lastCycleAt = Date.now();

    if (work.config && this.#reloadOptions) {
      try {
        this.#options = await this.#reloadOptions();
        work.templates = true;
        work.files = true;
      } catch (error) {
        failure = errorMessage(error);
        this.#observer.error?.(`Keeping the previous settings: ${failure}`);
      }
    }
    if (work.templates) {
      try {
        this.#targets = await loadTargets(this.#options.targets ?? []);
      } catch (error) {
        this.#observer.error?.(`Keeping the previous templates: ${errorMessage(error)}`);
      }
    }
    await Promise.all(
      this.#engines.filter((e) => work.engines.has(e.endpoint.url)).map(async (engine) => {
        try {
          const name = this.#engines.length > 1 ? engine.endpoint.url : "";
          this.#containers.set(engine.endpoint.url, await engine.list(name));
        } catch (error) {
          this.#observer.error?.(`${errorMessage(error)} (keeping its last known containers)`);
        }
      }),
    );
    if (work.files && this.#options.fromFiles?.length) {
      try {
        this.#fileContainers = await readContainerFiles(this.#options.fromFiles);
        this.#fileIds = new Set(this.#fileContainers.map((c) => c.id));
      } catch (error) {
        this.#observer.error?.(`${errorMessage(error)} (keeping its last contents)`);
      }
    }

    const containers = [...this.#fileContainers, ...[...this.#containers.values()].flat()]
      .map((c) => this.#refine(c));
    const probe = await portProbeOf(this.#targets, this.#options);
    const result = await buildReadyModel(
      containers,
      this.#options,
      this.#gate,
      0,
      this.#fileIds,
      probe,
    );
    this.#followReadiness(result);
    const retireAfter = retireDelay(this.#options);
    if (retireAfter !== undefined) {
      this.#retirements.schedule(result, containers, this.#engines, retireAfter);
    }
    this.#observer.built?.(result);
    const rendered = this.#render(result);
    const files = applyTargetsOf(rendered, this.#options);
    const apply = await applyTargets(files, {
      ...this.#options.apply,
      notify: notifier(this.#options),
      haproxy: this.#haproxy,
    }).catch((error) => {
      failure = errorMessage(error);
      this.#observer.error?.(`${failure} (will retry at the next change)`);
      this.#observer.applyFailed?.(failure, error instanceof ApplyError ? error.step : undefined);
      return undefined;
    });
    if (!apply) return failure;
    this.#observer.cycle?.({
      reasons: [...work.reasons],
      events: work.events,
      result,
      apply,
      changed: apply.targets.filter((t) => t.changed).map((t) => t.output),
      ms: Math.round(performance.now() - started),
    });
    return failure;
  }

  /**
   * A container as the model should see it: `stopping` once its stop began, and its creation
   * time to the millisecond when its `create` event was seen (the oldest container's labels
   * and rollover depend on the order).
   */
  #refine(c: ContainerInfo): ContainerInfo {
    const created = this.#createdAt.get(c.id);
    const precise = created !== undefined && Math.floor(created / 1000) * 1000 === c.created;
    const stopping = this.#stopping.has(c.id) && c.state === "running";
    if (!precise && !stopping) return c;
    return { ...c, created: precise ? created : c.created, state: stopping ? "stopping" : c.state };
  }

  /**
   * Containers that are not ready yet are probed again every 500 ms for `readyTimeoutMs`
   * after they were first seen, then at each batch and resync.
   */
  #followReadiness(result: ModelResult): void {
    const now = Date.now();
    const waiting = new Set(
      result.skipped.filter((s) => s.code === "not-ready").map((s) => s.id),
    );
    for (const id of this.#notReadySince.keys()) {
      if (!waiting.has(id)) this.#notReadySince.delete(id);
    }
    for (const id of waiting) if (!this.#notReadySince.has(id)) this.#notReadySince.set(id, now);
    const limit = this.#options.readyTimeoutMs ?? 10_000;
    const soon = [...this.#notReadySince.values()].some((since) => now - since < limit);
    clearTimeout(this.#readinessTimer);
    if (!soon || this.#stopped) return;
    this.#readinessTimer = setTimeout(() => {
      this.#mark({ reason: "readiness" });
      this.#kick();
    }, 500);
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
