/**
 * Watch mode's view of the store (`--store`): the prefix read in full, then followed with
 * etcd's watch API. A broken stream or a store gone away keeps the last known services in
 * force; on return the prefix is read in full again before anything is applied. Loaded only
 * with `--store`.
 *
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import {
  type KeyValue,
  servicesOfEntries,
  type StoreServices,
} from "../core/input/store_entries.ts";
import type { EtcdClient, StoreEvent } from "../sources/etcd_client.ts";
import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";

/** Reconnect backoff after the store fails, doubled from first to max (ms). */
export const STORE_RETRY_MS = Object.freeze({ first: 250, max: 2_000 });

/** What the follower asks of the store: a full read, a watch, and closing its connections. */
export type StoreClient = Pick<EtcdClient, "range" | "watch" | "close">;

/** The state of the store as the watch sees it, for `/healthz` and `/status`. */
export interface StoreState {
  url: string;
  state: "connecting" | "connected" | "unreachable";
  /** Why it is not connected. */
  detail?: string;
  /** The store's revision of what is in force. */
  revision: number;
}

/** The store's keys under a prefix, kept current; see the module's doc. */
export class StoreFollower {
  readonly #client: StoreClient;
  readonly #prefix: string;
  readonly #clock: Clock;
  #entries = new Map<string, KeyValue>();
  #revision = 0;
  #read: StoreServices | undefined;
  #state: StoreState;
  readonly #listeners: ((state: StoreState) => void)[] = [];
  #changed: () => void = () => {};

  /** A follower of `prefix`; nothing is read before {@link StoreFollower.follow}. */
  constructor(
    client: StoreClient,
    prefix: string,
    readonly url: string,
    clock: Clock = systemClock,
  ) {
    this.#client = client;
    this.#prefix = prefix;
    this.#clock = clock;
    this.#state = { url, state: "connecting", revision: 0 };
  }

  /** The services in force, or `undefined` before the first full read. */
  current(): StoreServices | undefined {
    return this.#read;
  }

  /** Why the store cannot be read now, or `undefined`. */
  failure(): string | undefined {
    return this.#state.state === "connected" ? undefined : this.#state.detail ?? "connecting";
  }

  /** The store's state now. */
  state(): StoreState {
    return this.#state;
  }

  /** Calls `listener` at every change of state. */
  onState(listener: (state: StoreState) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Reads the prefix in full now; takes it when it is newer than what is in force (the admin
   * API's answer waits for its own change). Returns whether anything changed.
   *
   * @throws {StoreError} when no member answers
   */
  async readAll(signal?: AbortSignal): Promise<boolean> {
    const { revision, entries } = await this.#client.range(this.#prefix, signal);
    if (this.#read !== undefined && revision <= this.#revision) return false;
    const before = this.#read && JSON.stringify(this.#read);
    this.#entries = new Map(entries.map((e) => [e.key, e]));
    this.#revision = revision;
    this.#read = servicesOfEntries(this.#prefix, [...this.#entries.values()]);
    return JSON.stringify(this.#read) !== before;
  }

  /**
   * Reads the prefix in full again (a resync): what a watch might have missed is applied. A
   * failure changes nothing here; the watch reports its own.
   */
  async refresh(): Promise<void> {
    try {
      if (await this.readAll()) this.#changed();
    } catch {
      // the store is away: follow() reports it and reads in full on return
    }
  }

  /**
   * Reads, then follows, until `signal` aborts; `changed` is called when the services changed
   * (also after the first read, and after a read on return).
   */
  async follow(changed: () => void, signal: AbortSignal): Promise<void> {
    this.#changed = changed;
    let retryMs: number = STORE_RETRY_MS.first;
    while (!signal.aborted) {
      try {
        if (await this.readAll(signal)) changed();
        this.#setState({ state: "connected" });
        await this.#client.watch(this.#prefix, this.#revision + 1, {
          opened: () => {
            retryMs = STORE_RETRY_MS.first;
          },
          events: (events) => {
            if (this.#apply(events)) changed();
          },
        }, signal);
      } catch (error) {
        if (signal.aborted) break;
        this.#setState({ state: "unreachable", detail: errorMessage(error) });
        await this.#sleep(retryMs, signal);
        retryMs = Math.min(retryMs * 2, STORE_RETRY_MS.max);
      }
    }
    await this.#client.close();
  }

  /** Applies watch events newer than what is in force; returns whether services changed. */
  #apply(events: StoreEvent[]): boolean {
    let touched = false;
    for (const { type, entry } of events) {
      if (entry.modRevision <= this.#revision) continue; // a full read already had it
      if (type === "delete") this.#entries.delete(entry.key);
      else this.#entries.set(entry.key, entry);
      this.#revision = entry.modRevision;
      touched = true;
    }
    if (!touched) return false;
    const before = JSON.stringify(this.#read);
    this.#read = servicesOfEntries(this.#prefix, [...this.#entries.values()]);
    return JSON.stringify(this.#read) !== before;
  }

  #setState(next: Pick<StoreState, "state" | "detail">): void {
    const state = { url: this.url, ...next, revision: this.#revision };
    const same = state.state === this.#state.state && state.detail === this.#state.detail;
    this.#state = state;
    if (!same) this.#listeners.forEach((l) => l(state));
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#clock.clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = this.#clock.setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
