/**
 * What watch mode has done, for `/healthz`, `/status` and `/metrics`: fed by the watcher's
 * reports, read by the status server.
 *
 * @module
 */
import type { EventEffect } from "../core/input/docker_events.ts";
import type { CycleReport, WatchActivity, WatchObserver } from "../watch/watch.ts";
import type { ApplyStep } from "../core/errors.ts";
import { explainRows, formatExplainTable } from "../core/explain.ts";
import { liveModelJson } from "../core/live_model.ts";
import { flagOf } from "../settings/options.ts";

/** State of one engine's event stream. */
export interface EngineState {
  url: string;
  state: "connecting" | "connected" | "disconnected";
  since: string;
  detail?: string;
  /** A Swarm read through several managers: the manager in use. */
  manager?: string;
}

/** Counters and last results of a running watch. */
export class WatchStats implements WatchObserver {
  readonly engines = new Map<string, EngineState>();
  readonly eventsByKind = new Map<string, number>();
  applies = 0;
  reloads = 0;
  runtimeApplies = 0;
  runtimeFallbacks = 0;
  /** DNS answers given for nginx (`--nginx-dns`), by response code name. */
  readonly dnsAnswers = new Map<string, number>();
  checkFailures = 0;
  /** Reloads that did not take (the balancer kept serving the old file). */
  staleReloads = 0;
  applyFailures = 0;
  /** ACME orders by outcome: `issued` or `failed`. */
  readonly acmeOrders = new Map<string, number>();
  cycles = 0;
  cycleSeconds = 0;
  batchEvents = 0;
  lastCycle: CycleReport | undefined;
  lastApply: { at: string; ok: boolean; changed: string[]; message?: string } | undefined;
  lastError: { at: string; message: string } | undefined;
  /** What the loop is doing, since when, and how many events wait for the next pass. */
  loop: { state: WatchActivity; since: string; pendingEvents: number } | undefined;
  /** Each engine's last listing: `ok`, or why it failed; `ever` once one succeeded. */
  readonly listings = new Map<string, { ok: boolean; ever: boolean; failure?: string }>();
  /** The store of the static services (`--store`): its state and the revision in force. */
  store: { url: string; state: string; detail?: string; revision: number } | undefined;

  /**
   * Stats; `now` is the clock of the timestamps. A pass that runs longer than `passBoundMs`
   * (the sum of the bounds of its steps) makes the watch unhealthy: it is stuck.
   */
  constructor(readonly now: () => Date = () => new Date(), readonly passBoundMs = Infinity) {}

  /** The engines watched, each connecting until its stream reports. */
  setEngines(urls: string[]): void {
    for (const url of urls) {
      this.engines.set(url, { url, state: "connecting", since: this.#stamp() });
      this.listings.set(url, { ok: false, ever: false });
    }
  }

  #stamp(): string {
    return this.now().toISOString();
  }

  /** An ACME order ended. */
  acmeOrder(result: "issued" | "failed"): void {
    this.acmeOrders.set(result, (this.acmeOrders.get(result) ?? 0) + 1);
  }

  /** The loop's activity changed (or its pending events did). */
  activity(state: WatchActivity, pendingEvents: number): void {
    const since = this.loop?.state === state ? this.loop.since : this.#stamp();
    this.loop = { state, since, pendingEvents };
  }

  /** A pass of the loop. */
  cycle(report: CycleReport): void {
    this.cycles += 1;
    this.cycleSeconds += report.ms / 1000;
    this.batchEvents += report.events;
    this.lastCycle = report;
    this.reloads += report.apply.reloads.length;
    for (const t of report.apply.targets) {
      if (t.runtime?.applied) this.runtimeApplies += 1;
      if (t.runtime?.failed) this.runtimeFallbacks += 1;
    }
    if (report.changed.length > 0) this.applies += 1;
    this.lastApply = { at: this.#stamp(), ok: true, changed: report.changed };
  }

  /** A DNS answer was sent with response code `code` (`NOERROR`, `NXDOMAIN`, ...). */
  dnsAnswered(code: string): void {
    this.dnsAnswers.set(code, (this.dnsAnswers.get(code) ?? 0) + 1);
  }

  /** A failed apply. */
  applyFailed(message: string, step?: ApplyStep): void {
    this.applyFailures += 1;
    if (step === "check") this.checkFailures += 1;
    if (step === "stale") this.staleReloads += 1;
    this.lastApply = { at: this.#stamp(), ok: false, changed: [], message };
  }

  /** Any error. */
  error(message: string): void {
    this.lastError = { at: this.#stamp(), message };
  }

  /** An event from an engine. */
  event(effect: EventEffect): void {
    this.eventsByKind.set(effect.kind, (this.eventsByKind.get(effect.kind) ?? 0) + 1);
  }

  /** An engine's stream connected or broke. */
  engine(url: string, state: "connected" | "disconnected", detail?: string): void {
    const manager = this.engines.get(url)?.manager;
    this.engines.set(url, {
      url,
      state,
      since: this.#stamp(),
      detail,
      ...(manager ? { manager } : {}),
    });
  }

  /** A Swarm's manager in use changed. */
  manager(url: string, manager: string): void {
    const known = this.engines.get(url) ?? { url, state: "connecting", since: this.#stamp() };
    this.engines.set(url, { ...known, manager });
  }

  /** An engine's listing succeeded or failed. */
  listed(url: string, failure?: string): void {
    const ever = failure === undefined || (this.listings.get(url)?.ever ?? false);
    this.listings.set(url, { ok: failure === undefined, ever, ...(failure ? { failure } : {}) });
  }

  /** The store's state changed (`--store`). */
  storeState(state: { url: string; state: string; detail?: string; revision: number }): void {
    this.store = state;
  }

  /**
   * Why the watch serves what it last knew rather than what is current (the store cannot be
   * read), or `undefined`.
   */
  degradedReason(): string | undefined {
    const store = this.store;
    if (store === undefined || store.state === "connected" || store.revision === 0) {
      return undefined;
    }
    const why = store.detail ? `: ${store.detail}` : "";
    return `store ${store.url} is ${store.state}${why} (serving its services of revision ${store.revision})`;
  }

  /** Why the watch is not healthy, or `undefined` when it is. */
  unhealthyReason(): string | undefined {
    const unlisted = [...this.listings].filter(([, l]) => !l.ever);
    if (unlisted.length > 0) {
      return unlisted.map(([url, l]) =>
        `${url} has not been listed yet${l.failure ? `: ${l.failure}` : ""}`
      ).join("; ") + " (nothing applied)";
    }
    if (this.loop?.state === "applying") {
      const ms = this.now().getTime() - Date.parse(this.loop.since);
      if (ms > this.passBoundMs) {
        return `a pass has run for ${Math.round(ms / 1000)} s, over its bound of ${
          Math.round(this.passBoundMs / 1000)
        } s: the loop is stuck`;
      }
    }
    if (this.store && this.store.revision === 0 && this.store.state !== "connected") {
      const why = this.store.detail ? `: ${this.store.detail}` : "";
      return `store ${this.store.url} has not been read yet${why} (nothing applied)`;
    }
    const down = [...this.engines.values()].filter((e) => e.state !== "connected");
    if (down.length > 0) {
      return down.map((e) =>
        `event stream of ${e.url} is ${e.state}${e.detail ? `: ${e.detail}` : ""}`
      ).join("; ");
    }
    if (this.lastApply && !this.lastApply.ok) return `last apply failed: ${this.lastApply.message}`;
    const held = this.lastCycle?.quarantined ?? [];
    if (held.length > 0) {
      return held.map((q) => `service ${q.service} quarantined: ${q.reason}`).join("; ");
    }
    if (!this.lastApply) return "no apply yet";
    return undefined;
  }

  /** The Prometheus text exposition of the counters. */
  metrics(): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    const result = this.lastCycle?.result;
    const inCount = result?.model.services.reduce((n, s) => n + s.servers.length, 0) ?? 0;
    metric("lbsync_applies_total", "counter", "Applies that changed at least one output.", [[
      "",
      this.applies,
    ]]);
    metric("lbsync_reloads_total", "counter", "Reload commands run.", [["", this.reloads]]);
    metric(
      "lbsync_runtime_applies_total",
      "counter",
      "Changes applied through a HAProxy runtime API instead of a reload.",
      [["", this.runtimeApplies]],
    );
    metric(
      "lbsync_runtime_fallbacks_total",
      "counter",
      "HAProxy runtime API failures that fell back to a reload.",
      [["", this.runtimeFallbacks]],
    );
    metric("lbsync_check_failures_total", "counter", "Applies refused by the check command.", [[
      "",
      this.checkFailures,
    ]]);
    metric(
      "lbsync_stale_reloads_total",
      "counter",
      "Reloads that did not take: the balancer still served the previous file.",
      [["", this.staleReloads]],
    );
    metric(
      "lbsync_apply_failures_total",
      "counter",
      "Applies that failed (check, write or reload).",
      [["", this.applyFailures]],
    );
    metric(
      "lbsync_events_total",
      "counter",
      "Docker events received, by kind.",
      [...this.eventsByKind].sort().map(([kind, n]) => [`{type="${escapeLabel(kind)}"}`, n]),
    );
    metric("lbsync_batch_events", "summary", "Events per batch.", [["_sum", this.batchEvents], [
      "_count",
      this.cycles,
    ]]);
    metric(
      "lbsync_cycle_duration_seconds",
      "summary",
      "Time of one pass: list, model, render, apply.",
      [
        ["_sum", Number(this.cycleSeconds.toFixed(6))],
        ["_count", this.cycles],
      ],
    );
    metric("lbsync_containers", "gauge", "Candidate containers in and out of the pool.", [
      ['{status="in"}', inCount],
      ['{status="out"}', result?.skipped.length ?? 0],
    ]);
    if (this.dnsAnswers.size > 0) {
      metric(
        "lbsync_dns_answers_total",
        "counter",
        "DNS answers to nginx's resolver, by response code.",
        [...this.dnsAnswers].map(([code, n]) => [`{rcode="${code}"}`, n]),
      );
    }
    if (this.acmeOrders.size > 0) {
      metric(
        "lbsync_acme_orders_total",
        "counter",
        "ACME certificate orders, by result (issued, failed).",
        [...this.acmeOrders].sort().map(([result, n]) => [`{result="${result}"}`, n]),
      );
    }
    metric(
      "lbsync_quarantined_services",
      "gauge",
      "Services held at their last good form: the balancer refused their current one.",
      [["", this.lastCycle?.quarantined.length ?? 0]],
    );
    if (this.store) {
      const label = `{store="${escapeLabel(this.store.url)}"}`;
      metric("lbsync_store_up", "gauge", "1 while the store (--store) is read and followed.", [
        [label, this.store.state === "connected" ? 1 : 0],
      ]);
      metric("lbsync_store_revision", "gauge", "The store's revision of the services in force.", [
        [label, this.store.revision],
      ]);
    }
    metric(
      "lbsync_engine_up",
      "gauge",
      "1 while the engine's event stream is connected.",
      [...this.engines.values()].map((
        e,
      ) => [`{engine="${escapeLabel(e.url)}"}`, e.state === "connected" ? 1 : 0]),
    );
    return lines.join("\n") + "\n";
  }

  /**
   * `explain` of the model in force (quarantined services included, with the balancer's
   * message): the table, or with `json` its rows. Empty before the first pass.
   */
  explain(json: boolean): string {
    const result = this.lastCycle?.result;
    const rows = result ? explainRows(result, flagOf) : [];
    if (json) {
      return JSON.stringify({ containers: rows, warnings: result?.warnings ?? [] }, null, 2);
    }
    return formatExplainTable(rows, result?.warnings ?? []);
  }

  /**
   * The `/model` document: the model in force as `explain` and `route` read it (see
   * `liveModelJson`); `undefined` before the first pass.
   */
  liveModel(): string | undefined {
    const cycle = this.lastCycle;
    if (!cycle) return undefined;
    const manager = [...this.engines.values()].find((e) => e.manager)?.manager;
    return liveModelJson({ listen: cycle.listen, manager, result: cycle.result });
  }

  /** The `/status` document. */
  status(): unknown {
    const result = this.lastCycle?.result;
    return {
      healthy: this.unhealthyReason() === undefined,
      reason: this.unhealthyReason(),
      degraded: this.degradedReason(),
      store: this.store,
      engines: [...this.engines.values()].map((e) => ({ ...e, listing: this.listings.get(e.url) })),
      services: result?.model.services ?? [],
      skipped: result?.skipped ?? [],
      quarantined: this.lastCycle?.quarantined ?? [],
      warnings: result?.warnings ?? [],
      lastApply: this.lastApply,
      lastError: this.lastError,
      loop: this.loop,
    };
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
