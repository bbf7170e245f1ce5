/**
 * The watch loop's scheduler: collects what changed (engines to re-list, files to re-read,
 * events), batches bursts by the heartbeat rule, and runs one pass at a time, with another
 * right after when more came in meanwhile. It knows nothing of Docker or balancers; time comes
 * from a {@link Clock}.
 *
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import { addEvent, type Batch, closesAt, type Heartbeat } from "../core/heartbeat.ts";
import type { Clock, TimerId } from "./clock.ts";

/** What a pass has to do: the union of everything marked since the last one. */
export interface Work {
  /** Engines to re-list, by URL. */
  engines: Set<string>;
  /** Re-read `--from-file` sources. */
  files: boolean;
  /** Re-load templates. */
  templates: boolean;
  /** Re-read the config file. */
  config: boolean;
  /** Why: `start`, `events`, `resync`, `files`, ... */
  reasons: Set<string>;
  /** Events in the batch. */
  events: number;
}

/** A part of {@link Work} to add; `reason` is required. */
export interface WorkItem {
  engines?: string[];
  files?: boolean;
  templates?: boolean;
  config?: boolean;
  reason: string;
}

/** What the loop is doing: nothing, collecting a batch, or a pass (render, check, reload). */
export type WatchActivity = "idle" | "batching" | "applying";

/** What a {@link Scheduler} needs. */
export interface SchedulerSettings {
  clock: Clock;
  /** The batching rule now (it may change with the config file). */
  heartbeat(): Heartbeat;
  /** One pass over `work`; resolves with why it failed to apply, if it did. */
  pass(work: Work): Promise<string | undefined>;
  /** A pass threw. */
  error(message: string): void;
  /** The activity changed (or the events waiting did). */
  activity?(state: WatchActivity, pendingEvents: number): void;
}

/** An empty {@link Work}. */
export function noWork(): Work {
  return {
    engines: new Set(),
    files: false,
    templates: false,
    config: false,
    reasons: new Set(),
    events: 0,
  };
}

/** Batches changes and runs passes, one at a time. */
export class Scheduler {
  readonly #settings: SchedulerSettings;
  #pending = noWork();
  #batch: Batch | undefined;
  #timer: TimerId | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #lastPassAt = Number.NEGATIVE_INFINITY;
  /** Callers of {@link Scheduler.nextPass} waiting for the next pass. */
  #waiters: ((failure: string | undefined) => void)[] = [];

  /** A scheduler; nothing runs until work is marked and a pass is due. */
  constructor(settings: SchedulerSettings) {
    this.#settings = settings;
  }

  /** Adds `item` to the next pass without scheduling it. */
  mark(item: WorkItem): void {
    for (const url of item.engines ?? []) this.#pending.engines.add(url);
    if (item.files) this.#pending.files = true;
    if (item.templates) this.#pending.templates = true;
    if (item.config) this.#pending.config = true;
    this.#pending.reasons.add(item.reason);
  }

  /** Marks `item` and runs a pass now (or right after the one in progress). */
  now(item: WorkItem): void {
    this.mark(item);
    this.#kick();
  }

  /** Marks `item` and opens or extends a batch: the pass runs when it closes. */
  batch(item: WorkItem): void {
    this.mark(item);
    this.#startOrExtendBatch();
  }

  /**
   * An event from `engine`. A container that begins to stop (`stopping`) leaves the pool
   * now, not after the heartbeat, unless a pass ran less than MAX ago: in a storm of stops
   * the heartbeat holds, so there is still at most one pass per MAX.
   */
  event(engine: string, stopping: boolean): void {
    this.mark({ engines: [engine], reason: "events" });
    this.#pending.events += 1;
    const { maxMs } = this.#settings.heartbeat();
    if (stopping && this.#settings.clock.now() - this.#lastPassAt >= maxMs) {
      this.#settings.clock.clearTimeout(this.#timer);
      this.#batch = undefined;
      this.#kick();
      return;
    }
    this.#startOrExtendBatch();
  }

  /** Resolves after the next pass: with why it failed, if it did. */
  nextPass(): Promise<string | undefined> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** No more passes start; resolves when the one in progress is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#settings.clock.clearTimeout(this.#timer);
    await this.#running;
  }

  #startOrExtendBatch(): void {
    if (this.#stopped) return;
    const now = this.#settings.clock.now();
    this.#batch = addEvent(this.#batch, now);
    this.#settings.clock.clearTimeout(this.#timer);
    const delay = Math.max(0, closesAt(this.#batch, this.#settings.heartbeat()) - now);
    this.#timer = this.#settings.clock.setTimeout(() => {
      this.#batch = undefined;
      this.#kick();
    }, delay);
    this.#reportActivity();
  }

  /** Runs a pass now, or right after the one in progress. */
  #kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#cycle()
      .catch((error) => this.#settings.error(errorMessage(error)))
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

  async #cycle(): Promise<void> {
    if (this.#batch) return; // a batch is still open: its close runs the pass
    const waiters = this.#waiters.splice(0);
    const work = this.#pending;
    this.#pending = noWork();
    let failure: string | undefined;
    try {
      if (work.reasons.size === 0) return;
      this.#lastPassAt = this.#settings.clock.now();
      failure = await this.#settings.pass(work);
    } catch (error) {
      failure = errorMessage(error);
      throw error;
    } finally {
      for (const resolve of waiters) resolve(failure);
    }
  }

  #reportActivity(): void {
    const state = this.#running
      ? "applying"
      : this.#batch || this.#pending.reasons.size > 0
      ? "batching"
      : "idle";
    this.#settings.activity?.(state, this.#pending.events);
  }
}
